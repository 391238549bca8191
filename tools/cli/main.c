/* melspec: audio files in, spectrograms out (.npy, .csv, .png), with librosa's numbers.
 *
 * Files are read one by one (librosa.load's steps, see audio.c); consecutive files of the same
 * length go through one library call as a batch; one plan serves every file and is made again
 * only when the sample rate changes (--sr native), growing with melspec_plan_reserve when a
 * batch is larger than any before. A file that fails is reported on one line and skipped. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sndfile.h>
#include <soxr.h>

#include "audio.h"
#include "files.h"
#include "melspec.h"
#include "options.h"
#include "progress.h"
#include "writers.h"

#define WHY_CAPACITY 512

/* One file waiting in a batch, or being written. */
typedef struct pending_file {
    const cli_job *job;
    cli_audio audio;
} pending_file;

typedef struct run_state {
    const cli_options *options;
    cli_progress progress;
    /* Outputs: one file per -o (single input), or a directory mirrored with formats. */
    int file_outputs;
    const char *output_directory;
    unsigned formats;
    int print_stats;
    /* The plan and what it was made for. */
    melspec_plan *plan;
    double plan_rate;
    int64_t reserved_signals, reserved_samples;
    float *output;
    size_t output_capacity;
    float *batch_input;
    size_t batch_input_capacity;
    /* Totals. */
    size_t files_seen, files_failed; /* seen: read or failed to read */
    double audio_seconds;
} run_state;

static void report_error(run_state *s, const char *path, const char *why)
{
    cli_progress_clear(&s->progress);
    fprintf(stderr, "melspec: %s: %s\n", path, why);
    s->files_failed++;
}

/* ---- the plan ------------------------------------------------------------------------------ */

/* The config a plan is made with for audio at sample_rate. Whisper's clamp to max - 8 must
 * see the clip without its last frame, so the preset clamps after dropping it (below) and the
 * library computes unclamped decibels. */
static melspec_config plan_config(const cli_options *o, double sample_rate)
{
    melspec_config config = o->config;
    config.sample_rate = sample_rate;
    if (o->whisper_log_mel && config.scaling == MELSPEC_SCALING_POWER_TO_DB)
        config.top_db = INFINITY;
    return config;
}

/* A plan of the options' transform: the STFT family, or a constant-Q plan. */
static melspec_status create_plan(const cli_options *o, const melspec_config *config,
                                  melspec_plan **plan, char *why)
{
    if (o->transform_cqt) return cli_cqt_plan_create(plan, config, &o->cqt, why, WHY_CAPACITY);
    return melspec_plan_create(plan, config, why, WHY_CAPACITY);
}

static int prepare_plan(run_state *s, double sample_rate, int64_t n_signals, int64_t n_samples,
                        char *why)
{
    if (s->plan != NULL && s->plan_rate == sample_rate) {
        if (n_signals <= s->reserved_signals && n_samples <= s->reserved_samples) return 0;
        const int64_t signals = n_signals > s->reserved_signals ? n_signals : s->reserved_signals;
        const int64_t samples = n_samples > s->reserved_samples ? n_samples : s->reserved_samples;
        const melspec_status status = melspec_plan_reserve(s->plan, signals, samples);
        if (status != MELSPEC_OK) {
            snprintf(why, WHY_CAPACITY, "%s", melspec_plan_last_error(s->plan));
            return -1;
        }
        s->reserved_signals = signals;
        s->reserved_samples = samples;
        return 0;
    }
    melspec_plan_destroy(s->plan);
    s->plan = NULL;
    melspec_config config = plan_config(s->options, sample_rate);
    config.max_batch = n_signals;
    config.max_samples = n_samples;
    if (create_plan(s->options, &config, &s->plan, why) != MELSPEC_OK) return -1;
    s->plan_rate = sample_rate;
    s->reserved_signals = n_signals;
    s->reserved_samples = n_samples;
    return 0;
}

static int grow(float **buffer, size_t *capacity, size_t bytes)
{
    if (bytes <= *capacity) return 0;
    float *bigger = realloc(*buffer, bytes);
    if (bigger == NULL) return -1;
    *buffer = bigger;
    *capacity = bytes;
    return 0;
}

/* ---- Whisper's last steps ------------------------------------------------------------------ */

/* Drops the last frame of every channel in place (whisper: stft[..., :-1]). */
static void drop_last_frame(cli_result *r)
{
    const int64_t B = r->n_bins, F = r->n_frames, C = r->n_channels;
    float *d = r->data;
    if (r->frames_major) {
        for (int64_t c = 0; c < C; c++)
            memmove(d + c * (F - 1) * B, d + c * F * B, (size_t)((F - 1) * B) * sizeof *d);
    } else {
        for (int64_t row = 0; row < C * B; row++)
            memmove(d + row * (F - 1), d + row * F, (size_t)(F - 1) * sizeof *d);
    }
    r->n_frames = F - 1;
}

/* From power_to_db (10 log10 max(S, amin)): clamp to max - top_db, / 10 (log10), then
 * (x + 4) / 4, per channel. */
static void whisper_log_mel(cli_result *r, double top_db)
{
    const int64_t n = r->n_bins * r->n_frames;
    for (int64_t c = 0; c < r->n_channels; c++) {
        float *clip = r->data + c * n;
        float peak = clip[0];
        for (int64_t i = 1; i < n; i++) peak = clip[i] > peak ? clip[i] : peak;
        const float floor_db = isinf(top_db) ? -INFINITY : (float)((double)peak - top_db);
        for (int64_t i = 0; i < n; i++) {
            const float db = clip[i] > floor_db ? clip[i] : floor_db;
            clip[i] = (db / 10.0f + 4.0f) / 4.0f;
        }
    }
}

/* ---- outputs ------------------------------------------------------------------------------- */

static void print_stats(run_state *s, const char *path, const cli_result *r,
                        const cli_audio *audio)
{
    const size_t n = (size_t)(r->n_channels * r->n_bins * r->n_frames);
    double low = INFINITY, high = -INFINITY, sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        double v = (double)r->data[r->complex_values ? 2 * i : i];
        if (r->complex_values) v = hypot(v, (double)r->data[2 * i + 1]);
        low = v < low ? v : low;
        high = v > high ? v : high;
        sum += v;
    }
    int64_t shape[3];
    const int n_axes = cli_result_shape(r, shape);
    char shape_text[96];
    int length = snprintf(shape_text, sizeof shape_text, "(");
    for (int i = 0; i < n_axes; i++)
        length += snprintf(shape_text + length, sizeof shape_text - (size_t)length, "%s%lld",
                           i ? ", " : "", (long long)shape[i]);
    snprintf(shape_text + length, sizeof shape_text - (size_t)length, ")");
    cli_progress_clear(&s->progress);
    printf("%s: %s %s, %.2f s at %g Hz: min %.6g, max %.6g, mean %.6g%s\n", path, shape_text,
           r->complex_values ? "complex64" : "float32",
           (double)audio->n_samples / audio->sample_rate, audio->sample_rate, low, high,
           sum / (double)n, r->complex_values ? " (of |X|)" : "");
}

static int write_one(const char *path, unsigned format, const cli_result *r, char *why)
{
    if (cli_make_parent_directories(path, why, WHY_CAPACITY) != 0) return -1;
    switch (format) {
    case CLI_FORMAT_NPY: return cli_write_npy(path, r, why, WHY_CAPACITY);
    case CLI_FORMAT_CSV: return cli_write_csv(path, r, why, WHY_CAPACITY);
    case CLI_FORMAT_PNG: return cli_write_png(path, r, why, WHY_CAPACITY);
    }
    snprintf(why, WHY_CAPACITY, "no output format");
    return -1;
}

static int write_outputs(run_state *s, const cli_job *job, const cli_result *r, char *why)
{
    const cli_options *o = s->options;
    if (s->file_outputs) {
        for (size_t i = 0; i < o->n_outputs; i++)
            if (write_one(o->outputs[i], cli_format_from_path(o->outputs[i]), r, why) != 0)
                return -1;
        return 0;
    }
    if (s->output_directory == NULL) return 0;
    for (unsigned format = 1; format <= CLI_FORMAT_PNG; format <<= 1) {
        if (!(s->formats & format)) continue;
        char *path = cli_output_path(s->output_directory, job->relative,
                                     cli_format_extension(format));
        if (path == NULL) {
            snprintf(why, WHY_CAPACITY, "out of memory");
            return -1;
        }
        const int written = write_one(path, format, r, why);
        free(path);
        if (written != 0) return -1;
    }
    return 0;
}

/* complex64 values: the STFT, and the CQT when unscaled (librosa.cqt). */
static int complex_output(const cli_options *o)
{
    if (o->transform_cqt) return o->config.scaling == MELSPEC_SCALING_NONE;
    return o->config.transform == MELSPEC_TRANSFORM_STFT;
}

static cli_value_kind value_kind(const cli_options *o, const melspec_config *c)
{
    switch ((melspec_scaling)c->scaling) {
    case MELSPEC_SCALING_POWER_TO_DB:
        return o->whisper_log_mel ? CLI_VALUES_LOG : CLI_VALUES_DB;
    case MELSPEC_SCALING_AMPLITUDE_TO_DB: return CLI_VALUES_DB;
    case MELSPEC_SCALING_LOG: return CLI_VALUES_LOG;
    case MELSPEC_SCALING_NONE: break;
    }
    return complex_output(o) ? CLI_VALUES_COMPLEX : CLI_VALUES_POWER;
}

/* Post-processing, outputs and statistics of one file whose result is at data. */
static void finish_file(run_state *s, pending_file *file, float *data, int64_t n_bins,
                        int64_t n_frames)
{
    const cli_options *o = s->options;
    const melspec_config *c = &o->config;
    char why[WHY_CAPACITY];
    cli_result r = {
        .data = data,
        .n_channels = file->audio.n_channels,
        .channel_axis = !o->mono && file->audio.n_channels > 1,
        .n_bins = n_bins,
        .n_frames = n_frames,
        .frames_major = c->layout == MELSPEC_LAYOUT_FRAMES_MAJOR,
        .complex_values = complex_output(o),
        .kind = value_kind(o, c),
        .power = o->transform_cqt ? 1.0 : c->power, /* |C| is a magnitude */
    };
    if (o->whisper_log_mel) {
        if (r.n_frames < 2) {
            report_error(s, file->job->input, "too short for the whisper preset (one frame)");
            return;
        }
        drop_last_frame(&r);
        if (c->scaling == MELSPEC_SCALING_POWER_TO_DB) whisper_log_mel(&r, c->top_db);
    }
    if (write_outputs(s, file->job, &r, why) != 0) {
        report_error(s, file->job->input, why);
        return;
    }
    if (s->print_stats) print_stats(s, file->job->input, &r, &file->audio);
}

/* Runs the library on files[0..n) (same rate, channels and length) and finishes each. */
static void run_batch(run_state *s, pending_file *files, size_t n)
{
    char why[WHY_CAPACITY];
    const cli_audio *first = &files[0].audio;
    const int64_t channels = first->n_channels, n_samples = first->n_samples;
    const int64_t n_signals = channels * (int64_t)n;
    if (prepare_plan(s, first->sample_rate, n_signals, n_samples, why) != 0) {
        for (size_t i = 0; i < n; i++) report_error(s, files[i].job->input, why);
        return;
    }
    int64_t n_bins, n_frames;
    size_t bytes;
    if (melspec_plan_output_shape(s->plan, n_samples, &n_bins, &n_frames) != MELSPEC_OK ||
        melspec_plan_output_bytes(s->plan, n_signals, n_samples, &bytes) != MELSPEC_OK) {
        for (size_t i = 0; i < n; i++)
            report_error(s, files[i].job->input, melspec_plan_last_error(s->plan));
        return;
    }
    const float *input = first->samples;
    const size_t per_file = (size_t)(channels * n_samples);
    if (n > 1) {
        if (grow(&s->batch_input, &s->batch_input_capacity,
                 n * per_file * sizeof(float)) != 0) {
            for (size_t i = 0; i < n; i++) report_error(s, files[i].job->input, "out of memory");
            return;
        }
        for (size_t i = 0; i < n; i++)
            memcpy(s->batch_input + i * per_file, files[i].audio.samples,
                   per_file * sizeof(float));
        input = s->batch_input;
    }
    if (grow(&s->output, &s->output_capacity, bytes) != 0) {
        for (size_t i = 0; i < n; i++) report_error(s, files[i].job->input, "out of memory");
        return;
    }
    const melspec_status status =
        melspec_execute(s->plan, input, n_signals, n_samples, s->output, bytes);
    if (status != MELSPEC_OK) {
        if (n > 1) {
            /* One bad file (NaN samples, say) fails the call: find it by going one by one. */
            for (size_t i = 0; i < n; i++) run_batch(s, files + i, 1);
            return;
        }
        report_error(s, files[0].job->input, melspec_plan_last_error(s->plan));
        return;
    }
    const size_t file_floats = bytes / sizeof(float) / n;
    for (size_t i = 0; i < n; i++)
        finish_file(s, &files[i], s->output + i * file_floats, n_bins, n_frames);
}

static int same_shape(const cli_audio *a, const cli_audio *b)
{
    return a->sample_rate == b->sample_rate && a->n_channels == b->n_channels &&
           a->n_samples == b->n_samples;
}

static void flush(run_state *s, pending_file *batch, size_t *n_batch)
{
    if (*n_batch == 0) return;
    run_batch(s, batch, *n_batch);
    for (size_t i = 0; i < *n_batch; i++) {
        s->files_seen++;
        s->audio_seconds += (double)batch[i].audio.n_samples / batch[i].audio.sample_rate;
        cli_audio_free(&batch[i].audio);
    }
    *n_batch = 0;
    cli_progress_update(&s->progress, s->files_seen, s->audio_seconds);
}

static void process_all(run_state *s, const cli_job_list *jobs)
{
    const cli_options *o = s->options;
    pending_file *batch = calloc((size_t)o->batch_files, sizeof *batch);
    if (batch == NULL) {
        fprintf(stderr, "melspec: out of memory\n");
        s->files_failed += jobs->count;
        return;
    }
    const cli_load_options load = {
        .mono = o->mono,
        .target_rate = o->native_rate ? 0.0 : o->config.sample_rate,
        .offset = o->offset,
        .duration = o->duration,
    };
    size_t n_batch = 0;
    for (size_t i = 0; i < jobs->count; i++) {
        char why[WHY_CAPACITY];
        pending_file file = {.job = &jobs->jobs[i]};
        if (cli_audio_load(file.job->input, &load, &file.audio, why, sizeof why) != 0) {
            report_error(s, file.job->input, why);
            s->files_seen++;
            cli_progress_update(&s->progress, s->files_seen, s->audio_seconds);
            continue;
        }
        if (n_batch > 0 && !same_shape(&batch[0].audio, &file.audio)) flush(s, batch, &n_batch);
        batch[n_batch++] = file;
        if (n_batch == (size_t)o->batch_files) flush(s, batch, &n_batch);
    }
    flush(s, batch, &n_batch);
    free(batch);
}

/* ---- the command --------------------------------------------------------------------------- */

static void print_versions(void)
{
    printf("melspec %s (library %s, CUDA backend %s, %d CUDA device(s))\n",
           MELSPEC_CLI_VERSION, melspec_version_string(),
           melspec_cuda_compiled() ? "compiled" : "not compiled", melspec_cuda_device_count());
    printf("%s\n", sf_version_string());
    printf("%s\n", soxr_version());
}

/* Decides where results go; returns -1 (reported) for combinations that make no sense. */
static int choose_outputs(run_state *s, const cli_options *o, const cli_job_list *jobs)
{
    s->print_stats = !o->quiet && (o->stats || o->n_outputs == 0);
    if (o->n_outputs == 0) return 0;
    const int one_file = o->n_inputs == 1 && jobs->count == 1 && !cli_is_directory(o->inputs[0]);
    const unsigned extension_format = cli_format_from_path(o->outputs[0]);
    if (o->n_outputs > 1) {
        if (!one_file) {
            fprintf(stderr, "melspec: several -o need exactly one input file\n");
            return -1;
        }
        s->file_outputs = 1;
        return 0;
    }
    if (one_file && extension_format != 0 && !cli_is_directory(o->outputs[0])) {
        if (o->formats != 0 && o->formats != extension_format) {
            fprintf(stderr, "melspec: -o %s and --format disagree\n", o->outputs[0]);
            return -1;
        }
        s->file_outputs = 1;
        return 0;
    }
    if (extension_format != 0 && !cli_is_directory(o->outputs[0])) {
        fprintf(stderr,
                "melspec: -o %s names a file but there are several inputs: give a directory\n",
                o->outputs[0]);
        return -1;
    }
    s->output_directory = o->outputs[0];
    s->formats = o->formats != 0 ? o->formats : CLI_FORMAT_NPY;
    return 0;
}

/* With a fixed rate the whole config can be checked once, before any file is read. */
static int check_config(const cli_options *o)
{
    if (o->native_rate) return 0;
    melspec_config config = plan_config(o, o->config.sample_rate);
    char why[WHY_CAPACITY];
    melspec_plan *plan = NULL;
    if (create_plan(o, &config, &plan, why) != MELSPEC_OK) {
        fprintf(stderr, "melspec: %s\n", why);
        return -1;
    }
    melspec_plan_destroy(plan);
    return 0;
}

int main(int argc, char **argv)
{
    cli_options options;
    switch (cli_parse_options(argc, argv, &options)) {
    case CLI_PARSE_RUN: break;
    case CLI_PARSE_EXIT_OK: cli_options_free(&options); return 0;
    case CLI_PARSE_VERSION:
        print_versions();
        cli_options_free(&options);
        return 0;
    case CLI_PARSE_USAGE_ERROR: cli_options_free(&options); return 2;
    }
    int exit_code = 0;
    char why[WHY_CAPACITY];
    cli_job_list jobs = {0};
    run_state state;
    memset(&state, 0, sizeof state);
    state.options = &options;

    if (options.generate_example != NULL) {
        if (cli_generate_example(options.generate_example, why, sizeof why) != 0) {
            fprintf(stderr, "melspec: %s: %s\n", options.generate_example, why);
            exit_code = 1;
        } else if (!options.quiet) {
            printf("wrote %s (3 s: chirp, tones, noise)\n", options.generate_example);
        }
        goto done;
    }
    if (check_config(&options) != 0) {
        exit_code = 2;
        goto done;
    }
    for (size_t i = 0; i < options.n_inputs; i++) {
        if (cli_collect(options.inputs[i], &jobs, why, sizeof why) != 0) {
            fprintf(stderr, "melspec: %s\n", why);
            exit_code = 1;
        }
    }
    if (jobs.count == 0) {
        fprintf(stderr, "melspec: no audio files found in the inputs\n");
        exit_code = 1;
        goto done;
    }
    if (choose_outputs(&state, &options, &jobs) != 0) {
        exit_code = 2;
        goto done;
    }
    cli_progress_start(&state.progress, !options.quiet, jobs.count);
    process_all(&state, &jobs);
    if (state.progress.drawn) fputc('\n', stderr); /* keep the final bar on screen */
    if (state.files_failed > 0) {
        fprintf(stderr, "melspec: %zu of %zu file(s) failed\n", state.files_failed, jobs.count);
        exit_code = 1;
    }

done:
    melspec_plan_destroy(state.plan);
    free(state.output);
    free(state.batch_input);
    cli_job_list_free(&jobs);
    cli_options_free(&options);
    return exit_code;
}
