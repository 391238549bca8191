/* librosa.load's steps: soundfile's read (libsndfile), to_mono (mean of the channels in float32),
 * resample with soxr_hq, fix_length to ceil(n * ratio). */
#define _POSIX_C_SOURCE 200809L /* dup, dup2, strcasecmp */
#include "audio.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>
#include <soxr.h>

#include "message.h"


int64_t cli_resampled_length(int64_t n_input, double input_rate, double output_rate)
{
    /* librosa: ratio = float(target_sr) / orig_sr; n_samples = int(np.ceil(n * ratio)) */
    const double ratio = output_rate / input_rate;
    return (int64_t)ceil((double)n_input * ratio);
}

int cli_resample(const float *input, int64_t n_input, double input_rate, double output_rate,
                 float *output, int64_t n_output, char *why, size_t why_capacity)
{
    soxr_error_t error = NULL;
    const soxr_io_spec_t io_spec = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
    soxr_t soxr = soxr_create(input_rate, output_rate, 1, &error, &io_spec, &quality, NULL);
    if (error != NULL) return cli_fail(why, why_capacity, "resampler: %s", error);

    /* python-soxr's buffer: n * out / in + 1 samples, which is what soxr may produce in all;
     * input in chunks of 48000 output samples' worth, then a flush. */
    const size_t capacity = (size_t)((double)n_input * output_rate / input_rate) + 1;
    float *resampled = malloc(capacity * sizeof *resampled);
    if (resampled == NULL) {
        soxr_delete(soxr);
        return cli_fail(why, why_capacity, "out of memory for %zu resampled samples", capacity);
    }
    const size_t chunk = (size_t)(48000.0 * input_rate / output_rate);
    size_t produced = 0, done = 0;
    for (size_t at = 0; at < (size_t)n_input && error == NULL; at += chunk) {
        const size_t length = (size_t)n_input - at < chunk ? (size_t)n_input - at : chunk;
        error = soxr_process(soxr, input + at, length, NULL, resampled + produced,
                             capacity - produced, &done);
        produced += done;
    }
    if (error == NULL) {
        error = soxr_process(soxr, NULL, 0, NULL, resampled + produced, capacity - produced,
                             &done);
        produced += done;
    }
    soxr_delete(soxr);
    if (error != NULL) {
        free(resampled);
        return cli_fail(why, why_capacity, "resampler: %s", error);
    }
    /* librosa.util.fix_length: trim, or pad with zeros at the end. */
    const size_t kept = produced < (size_t)n_output ? produced : (size_t)n_output;
    memcpy(output, resampled, kept * sizeof *output);
    memset(output + kept, 0, ((size_t)n_output - kept) * sizeof *output);
    free(resampled);
    return 0;
}

/* libsndfile's MP3 decoder (mpg123) prints notes about damaged streams on file descriptor 2
 * itself. The command reports each file on one line of its own, so descriptor 2 is pointed at
 * /dev/null while MP3 files decode. Descriptors are per process and files load in parallel: the
 * first decoder in mutes, the last one out restores (the command prints through a copy of
 * descriptor 2, so its messages are never muted). Only MP3 is muted, so that sanitizer reports
 * on descriptor 2 stay visible for everything else. */
static pthread_mutex_t mute_lock = PTHREAD_MUTEX_INITIALIZER;
static int mute_count = 0, saved_stderr = -1;

static int mute_stderr(void)
{
    pthread_mutex_lock(&mute_lock);
    if (mute_count == 0) {
        fflush(stderr);
        saved_stderr = dup(STDERR_FILENO);
        const int null = open("/dev/null", O_WRONLY);
        if (saved_stderr >= 0 && null >= 0) dup2(null, STDERR_FILENO);
        if (null >= 0) close(null);
    }
    mute_count++;
    pthread_mutex_unlock(&mute_lock);
    return 1;
}

static void unmute_stderr(int muted)
{
    if (!muted) return;
    pthread_mutex_lock(&mute_lock);
    if (--mute_count == 0 && saved_stderr >= 0) {
        dup2(saved_stderr, STDERR_FILENO);
        close(saved_stderr);
        saved_stderr = -1;
    }
    pthread_mutex_unlock(&mute_lock);
}

/* MPEG audio by its first bytes: an ID3v2 tag or a frame sync (11 set bits). */
static int looks_like_mpeg(const unsigned char *head, size_t n)
{
    if (n >= 3 && memcmp(head, "ID3", 3) == 0) return 1;
    return n >= 2 && head[0] == 0xFF && (head[1] & 0xE0) == 0xE0;
}

/* ---- files that cannot seek (stdin, pipes): read into memory, decoded through virtual I/O */

typedef struct memory_file {
    unsigned char *bytes;
    sf_count_t size, position;
} memory_file;

static sf_count_t memory_length(void *user) { return ((memory_file *)user)->size; }

static sf_count_t memory_seek(sf_count_t offset, int whence, void *user)
{
    memory_file *m = user;
    sf_count_t to = whence == SEEK_SET ? offset : whence == SEEK_CUR ? m->position + offset
                                                                     : m->size + offset;
    if (to < 0) to = 0;
    if (to > m->size) to = m->size;
    m->position = to;
    return to;
}

static sf_count_t memory_read(void *data, sf_count_t count, void *user)
{
    memory_file *m = user;
    if (count > m->size - m->position) count = m->size - m->position;
    memcpy(data, m->bytes + m->position, (size_t)count);
    m->position += count;
    return count;
}

static sf_count_t memory_write(const void *data, sf_count_t count, void *user)
{
    (void)data;
    (void)count;
    (void)user;
    return 0;
}

static sf_count_t memory_tell(void *user) { return ((memory_file *)user)->position; }

static int read_all(int descriptor, memory_file *m, char *why, size_t why_capacity)
{
    size_t capacity = 0;
    memset(m, 0, sizeof *m);
    for (;;) {
        if ((size_t)m->size == capacity) {
            capacity = capacity ? 2 * capacity : 1 << 20;
            unsigned char *grown = realloc(m->bytes, capacity);
            if (grown == NULL) {
                free(m->bytes);
                return cli_fail(why, why_capacity, "out of memory reading the input");
            }
            m->bytes = grown;
        }
        const ssize_t got = read(descriptor, m->bytes + m->size, capacity - (size_t)m->size);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            free(m->bytes);
            return cli_fail(why, why_capacity, "cannot read: %s", strerror(errno));
        }
        if (got == 0) break;
        m->size += got;
    }
    return 0;
}

/* libsndfile shortens a WAV-family file whose data chunk runs past the end of the file and
 * notes "data : <declared> (should be <present>)" in its log; a file cut short is damaged, so
 * report it rather than decode a part of it. Streamed WAVs that declare 0 or 0xFFFFFFFF bytes
 * are left alone. */
static int declared_longer_than_present(SNDFILE *file, long long *declared, long long *present)
{
    char log[4096];
    if (sf_command(file, SFC_GET_LOG_INFO, log, sizeof log) <= 0) return 0;
    log[sizeof log - 1] = '\0';
    for (const char *line = log; line != NULL && *line != '\0';) {
        if (sscanf(line, "data : %lld (should be %lld)", declared, present) == 2 &&
            *present < *declared && *declared > 0 && *declared < 0xFFFFFF00LL)
            return 1;
        line = strchr(line, '\n');
        if (line != NULL) line++;
    }
    return 0;
}

/* Reads up to max_frames frames (all when < 0) of interleaved float samples. */
static int read_interleaved(SNDFILE *file, int channels, int64_t max_frames, float **samples,
                            int64_t *n_frames, char *why, size_t why_capacity)
{
    const sf_count_t block = 65536;
    size_t capacity = 0;
    float *buffer = NULL;
    int64_t total = 0;
    for (;;) {
        sf_count_t wanted = block;
        if (max_frames >= 0 && max_frames - total < wanted) wanted = (sf_count_t)(max_frames - total);
        if (wanted == 0) break;
        if ((size_t)(total + wanted) > capacity) {
            const size_t grown = capacity == 0 ? (size_t)block : 2 * capacity;
            float *bigger = realloc(buffer, grown * (size_t)channels * sizeof *bigger);
            if (bigger == NULL) {
                free(buffer);
                return cli_fail(why, why_capacity, "out of memory after %lld frames",
                            (long long)total);
            }
            buffer = bigger;
            capacity = grown;
        }
        const sf_count_t got = sf_readf_float(file, buffer + total * channels, wanted);
        if (got <= 0) break;
        total += got;
    }
    *samples = buffer;
    *n_frames = total;
    return 0;
}

int cli_audio_load(const char *path, const cli_load_options *options, cli_audio *audio,
                   char *why, size_t why_capacity)
{
    memset(audio, 0, sizeof *audio);
    const int from_stdin = strcmp(path, "-") == 0;
    struct stat status;
    if (from_stdin ? fstat(STDIN_FILENO, &status) != 0 : stat(path, &status) != 0)
        return cli_fail(why, why_capacity, "%s", strerror(errno));
    if (S_ISDIR(status.st_mode)) return cli_fail(why, why_capacity, "is a directory");
    const int in_memory = from_stdin || !S_ISREG(status.st_mode);
    if (!in_memory && status.st_size == 0)
        return cli_fail(why, why_capacity, "empty file (0 bytes)");

    memory_file memory = {0};
    unsigned char head[4] = {0};
    size_t head_length = 0;
    if (in_memory) {
        const int descriptor = from_stdin ? STDIN_FILENO : open(path, O_RDONLY);
        if (descriptor < 0) return cli_fail(why, why_capacity, "%s", strerror(errno));
        const int read_result = read_all(descriptor, &memory, why, why_capacity);
        if (!from_stdin) close(descriptor);
        if (read_result != 0) return -1;
        if (memory.size == 0) {
            free(memory.bytes);
            return cli_fail(why, why_capacity, "empty input (0 bytes)");
        }
        head_length = memory.size < 4 ? (size_t)memory.size : 4;
        memcpy(head, memory.bytes, head_length);
    } else {
        FILE *peek = fopen(path, "rb");
        if (peek == NULL) return cli_fail(why, why_capacity, "%s", strerror(errno));
        head_length = fread(head, 1, sizeof head, peek);
        fclose(peek);
    }
    SF_VIRTUAL_IO memory_io = {memory_length, memory_seek, memory_read, memory_write,
                               memory_tell};

    SF_INFO info;
    memset(&info, 0, sizeof info);
    const int muted = looks_like_mpeg(head, head_length) ? mute_stderr() : 0;
    SNDFILE *file = in_memory ? sf_open_virtual(&memory_io, SFM_READ, &info, &memory)
                              : sf_open(path, SFM_READ, &info);
    if (file == NULL) {
        const char *reason = sf_strerror(NULL);
        unmute_stderr(muted);
        free(memory.bytes);
        /* The file exists (stat above): this libsndfile message is its MP3 decoder giving up. */
        if (strstr(reason, "not a regular file") != NULL)
            return cli_fail(why, why_capacity, "not a readable audio file (no decoder accepts it)");
        return cli_fail(why, why_capacity, "not a readable audio file (libsndfile: %s)", reason);
    }
    float *interleaved = NULL;
    int result = -1;
    if (info.channels < 1 || info.samplerate < 1) {
        cli_fail(why, why_capacity, "no channels or no sample rate in the header");
        goto done;
    }
    long long declared, present;
    if (declared_longer_than_present(file, &declared, &present)) {
        /* libsndfile already shortened the stream to what is there, as soundfile reads it. */
        snprintf(audio->note, sizeof audio->note,
                 "truncated: the header declares %lld bytes of audio but the file holds %lld",
                 declared, present);
        if (options->strict) {
            cli_fail(why, why_capacity, "%s (--strict)", audio->note);
            goto done;
        }
    }
    const double native_rate = (double)info.samplerate;
    if (options->offset > 0.0) {
        /* soundfile: sf.seek(int(offset * sr_native)) */
        const int64_t start = (int64_t)(options->offset * native_rate);
        if (start >= info.frames) {
            cli_fail(why, why_capacity, "--offset %g s is past the end of the audio (%.3f s)",
                 options->offset, (double)info.frames / native_rate);
            goto done;
        }
        if (sf_seek(file, start, SEEK_SET) < 0) {
            cli_fail(why, why_capacity, "cannot seek to %g s (libsndfile: %s)", options->offset,
                 sf_strerror(file));
            goto done;
        }
    }
    const int64_t max_frames =
        options->duration >= 0.0 ? (int64_t)(options->duration * native_rate) : -1;
    int64_t n_frames = 0;
    if (read_interleaved(file, info.channels, max_frames, &interleaved, &n_frames, why,
                         why_capacity) != 0)
        goto done;
    if (sf_error(file) != SF_ERR_NO_ERROR && audio->note[0] == '\0') {
        snprintf(audio->note, sizeof audio->note,
                 "damaged: decoding stopped after %lld frames (%s)", (long long)n_frames,
                 sf_strerror(file));
        if (options->strict || n_frames == 0) {
            cli_fail(why, why_capacity, "%s%s", audio->note, options->strict ? " (--strict)" : "");
            goto done;
        }
    }
    /* FLAC and the PCM containers state their length exactly (MP3's is an estimate): fewer
     * frames than stated means the file was cut short. */
    const int64_t start = options->offset > 0.0 ? (int64_t)(options->offset * native_rate) : 0;
    int64_t expected = info.frames - start;
    if (max_frames >= 0 && max_frames < expected) expected = max_frames;
    if ((info.format & SF_FORMAT_TYPEMASK) != SF_FORMAT_MPEG && info.frames != SF_COUNT_MAX &&
        n_frames < expected && audio->note[0] == '\0') {
        snprintf(audio->note, sizeof audio->note,
                 "truncated: %lld of the %lld frames the header states decode, read as they are",
                 (long long)n_frames, (long long)expected);
        if (options->strict) {
            cli_fail(why, why_capacity, "%s (--strict)", audio->note);
            goto done;
        }
    }
    if (n_frames == 0) {
        cli_fail(why, why_capacity, "no audio samples");
        goto done;
    }

    const int64_t channels = info.channels;
    const int64_t n_out_channels = options->mono ? 1 : channels;
    const int resample = options->target_rate > 0.0 && options->target_rate != native_rate;
    const int64_t n_out = resample ? cli_resampled_length(n_frames, native_rate,
                                                          options->target_rate)
                                   : n_frames;
    if (n_out < 1) {
        cli_fail(why, why_capacity, "%lld frames at %g Hz give no sample at %g Hz",
             (long long)n_frames, native_rate, options->target_rate);
        goto done;
    }
    float *planar = malloc((size_t)(n_out_channels * n_frames) * sizeof *planar);
    audio->samples = malloc((size_t)(n_out_channels * n_out) * sizeof *audio->samples);
    if (planar == NULL || audio->samples == NULL) {
        free(planar);
        cli_fail(why, why_capacity, "out of memory for %lld frames", (long long)n_frames);
        goto done;
    }
    if (options->mono) {
        /* numpy's mean over the channel axis: a float32 sum in channel order, then / count. */
        for (int64_t t = 0; t < n_frames; t++) {
            float sum = interleaved[t * channels];
            for (int64_t c = 1; c < channels; c++) sum += interleaved[t * channels + c];
            planar[t] = channels == 1 ? sum : sum / (float)channels;
        }
    } else {
        for (int64_t c = 0; c < channels; c++)
            for (int64_t t = 0; t < n_frames; t++)
                planar[c * n_frames + t] = interleaved[t * channels + c];
    }
    if (resample) {
        for (int64_t c = 0; c < n_out_channels; c++) {
            if (cli_resample(planar + c * n_frames, n_frames, native_rate, options->target_rate,
                             audio->samples + c * n_out, n_out, why, why_capacity) != 0) {
                free(planar);
                goto done;
            }
        }
        free(planar);
    } else {
        free(audio->samples);
        audio->samples = planar;
    }
    audio->n_channels = n_out_channels;
    audio->n_samples = n_out;
    audio->native_rate = native_rate;
    audio->native_frames = n_frames;
    audio->sample_rate = resample ? options->target_rate : native_rate;
    result = 0;

done:
    if (result != 0) {
        free(audio->samples);
        audio->samples = NULL;
    }
    free(interleaved);
    sf_close(file);
    unmute_stderr(muted);
    free(memory.bytes);
    return result;
}

void cli_audio_free(cli_audio *audio)
{
    if (audio == NULL) return;
    free(audio->samples);
    memset(audio, 0, sizeof *audio);
}

/* ---- the example signal -------------------------------------------------------------------- */

void cli_example_signal(float *samples, int64_t n, double sample_rate)
{
    const double pi = 3.14159265358979323846;
    const double seconds = (double)n / sample_rate;
    /* Logarithmic chirp 100 Hz -> 8 kHz (capped below Nyquist) over the whole signal. */
    const double f0 = 100.0;
    const double f1 = fmin(8000.0, 0.45 * sample_rate);
    const double k = log(f1 / f0);
    uint32_t state = 0x9E3779B9u; /* xorshift32: the same noise on every machine */
    for (int64_t i = 0; i < n; i++) {
        const double t = (double)i / sample_rate;
        const double chirp_phase = 2.0 * pi * f0 * seconds / k * (exp(k * t / seconds) - 1.0);
        double x = 0.30 * sin(chirp_phase);
        x += 0.15 * sin(2.0 * pi * 440.0 * t);                       /* A4, all along */
        if (t >= seconds / 3.0 && t < 2.0 * seconds / 3.0)
            x += 0.10 * sin(2.0 * pi * 1760.0 * t);                  /* A6, the middle third */
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        x += 0.02 * ((double)state / 4294967296.0 * 2.0 - 1.0);      /* faint white noise */
        /* 10 ms fades so that the ends do not click. */
        const double fade = fmin(1.0, fmin(t, seconds - t) / 0.010);
        samples[i] = (float)(x * fade);
    }
}

int cli_generate_example(const char *path, char *why, size_t why_capacity)
{
    const char *dot = strrchr(path, '.');
    const char *extension = dot != NULL ? dot + 1 : "";
    int format;
    int sample_rate = 22050;
    if (strcasecmp(extension, "wav") == 0) {
        format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    } else if (strcasecmp(extension, "flac") == 0) {
        format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
    } else if (strcasecmp(extension, "ogg") == 0 || strcasecmp(extension, "oga") == 0) {
        format = SF_FORMAT_OGG | SF_FORMAT_VORBIS;
    } else if (strcasecmp(extension, "opus") == 0) {
        format = SF_FORMAT_OGG | SF_FORMAT_OPUS;
        sample_rate = 48000; /* Opus runs at 8, 12, 16, 24 or 48 kHz only */
    } else if (strcasecmp(extension, "mp3") == 0) {
        format = SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III;
    } else if (strcasecmp(extension, "aiff") == 0 || strcasecmp(extension, "aif") == 0) {
        format = SF_FORMAT_AIFF | SF_FORMAT_PCM_16;
    } else {
        return cli_fail(why, why_capacity,
                    "unknown extension '.%s' (use .wav, .flac, .ogg, .opus, .mp3 or .aiff)",
                    extension);
    }
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = sample_rate;
    info.channels = 1;
    info.format = format;
    if (!sf_format_check(&info))
        return cli_fail(why, why_capacity, "this libsndfile cannot write .%s", extension);
    const int64_t n = 3 * (int64_t)sample_rate;
    float *samples = malloc((size_t)n * sizeof *samples);
    if (samples == NULL) return cli_fail(why, why_capacity, "out of memory");
    cli_example_signal(samples, n, (double)sample_rate);
    SNDFILE *file = sf_open(path, SFM_WRITE, &info);
    if (file == NULL) {
        free(samples);
        return cli_fail(why, why_capacity, "cannot write: %s", sf_strerror(NULL));
    }
    const sf_count_t written = sf_writef_float(file, samples, n);
    free(samples);
    const int close_error = sf_close(file);
    if (written != n || close_error != 0)
        return cli_fail(why, why_capacity, "write failed after %lld frames", (long long)written);
    return 0;
}
