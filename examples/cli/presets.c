#include "presets.h"

void cli_preset_librosa(melspec_config *c)
{
    melspec_config_init(c);
    c->sample_rate = 22050.0;
}

void cli_preset_whisper(melspec_config *c)
{
    /* whisper/audio.py: torch.stft(400, 160, hann window, center with reflect padding), |.|^2,
     * librosa's slaney mel filterbank, log10 with a 1e-10 floor, clamp to max - 8. */
    melspec_config_init(c);
    c->sample_rate = 16000.0;
    c->n_fft = 400;
    c->hop_length = 160;
    c->n_mels = 80;
    c->power = 2.0;
    c->pad_mode = MELSPEC_PAD_REFLECT;
    c->scaling = MELSPEC_SCALING_POWER_TO_DB;
    c->ref = 1.0;
    c->amin = 1e-10;
    c->top_db = 80.0;
}

void cli_preset_realtime(melspec_config *c)
{
    melspec_config_init(c);
    c->sample_rate = 16000.0;
    c->n_fft = 800;
    c->hop_length = 200;
    c->n_mels = 80;
    c->fmin = 55.0;
    c->fmax = 7600.0;
    c->power = 1.0;
    c->mel_scale = MELSPEC_MEL_SCALE_SLANEY;
    c->mel_norm = MELSPEC_MEL_NORM_SLANEY;
}
