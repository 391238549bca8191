#include "pcen.h"

double melspec_dsp_pcen_b(double time_constant, double sample_rate, int64_t hop_length)
{
    const double t_frames = time_constant * sample_rate / (double)hop_length;
    return (sqrt(1.0 + 4.0 * t_frames * t_frames) - 1.0) / (2.0 * t_frames * t_frames);
}

void melspec_dsp_pcen_stage(double b, double gain, double bias, double power, double eps,
                            int64_t max_size, melspec_pcen_stage *s)
{
    s->b = b;
    s->gain = gain;
    s->bias = bias;
    s->power = power;
    s->eps = eps;
    s->log_eps = log(eps);
    s->bias_power = pow(bias, power);
    s->initial_state = melspec_pcen_initial_state(b);
    s->max_size = max_size;
    s->compression = power == 0.0  ? MELSPEC_PCEN_LOG1P
                     : bias == 0.0 ? MELSPEC_PCEN_NO_BIAS
                                   : MELSPEC_PCEN_GENERAL;
}
