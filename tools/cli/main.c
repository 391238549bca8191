/* melspec: audio files in, spectrograms out (.npy, .csv, figures), with librosa's numbers.
 *
 * The run has three stages. Planning, before any file is read: every input gets its output
 * paths, and collisions, unknown formats, outputs that exist and output directories that cannot
 * be written are errors then. Work: --jobs worker threads claim runs of consecutive inputs, each
 * with its own plan (one plan per thread, the library's rule); consecutive files of the same
 * length go through one library call; every output is written to a temporary and renamed when
 * complete. Reporting: each input's messages and statistics are printed in input order, whatever
 * order the workers finish in. SIGINT/SIGTERM stop the claims; files being written are discarded
 * (their temporaries removed) and the run ends with a summary and status 130/143. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h> /* mallopt */
#endif
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <soxr.h>

#include "audio.h"
#include "figure_module.h"
#include "files.h"
#include "melspec.h"
#include "options.h"
#include "progress.h"
#include "threads.h"
#include "writers.h"

#define WHY_CAPACITY 512

/* The signal that asked the run to stop (0: none). Read by every worker between steps. */
static volatile sig_atomic_t stop_signal = 0;

static void request_stop(int signal_number) { stop_signal = signal_number; }

/* What one input came to, kept until its turn to be reported. */
typedef struct job_outcome {
    int done;         /* finished (processed, failed or skipped) */
    int failed;
    int skipped;      /* --skip-existing found its outputs */
    char *messages;   /* lines for stderr, each ending in '\n' */
    char *stats;      /* the statistics line for stdout (or stderr when stdout is an output) */
    char *reason;     /* the failure, for --failures */
    double audio_seconds;
} job_outcome;

/* What the workers share; everything below lock is guarded by it. */
typedef struct shared_run {
    const cli_options *options;
    const cli_job_list *jobs;
    FILE *messages;    /* the command's stderr (see main: libsndfile's MP3 decoder is muted) */
    FILE *stats;       /* stdout, or messages when stdout carries a result */
    int print_stats;
    size_t n_workers;
    size_t max_claim;  /* inputs per claim at most (--batch) */
    pthread_mutex_t lock;
    job_outcome *outcomes;
    size_t *order;     /* the inputs in the order they are claimed (see claim_order) */
    size_t next_claim, next_report;
    size_t files_processed, files_failed, files_skipped;
    double audio_seconds;
    size_t files_finished;  /* in any order, for the progress bar */
    double audio_finished;
    cli_progress progress;
    FILE *failures;
    double start_seconds;
} shared_run;

/* Where one worker's time went (printed with MELSPEC_CLI_TIMING=1, see print_timing). */
typedef struct worker_timing {
    double load, compute, write; /* seconds in decoding, in the library, in writing outputs */
    double plan_ready;           /* when it had its plan and started on files, from the start */
    double finished;             /* when it found no work left, from the start of the run */
    size_t files, calls;         /* files decoded, library calls made */
} worker_timing;

struct worker;

/* A worker thread started with the command: it makes its plan while the main thread checks the
 * config, finds the inputs and checks the outputs, then waits to be given its worker (the run
 * begins) or let go (no run). See early_workers_start. */
typedef struct early_worker {
    const cli_options *options;
    pthread_t thread;
    int started, joined;
    melspec_plan *plan; /* NULL when creation failed (the worker then tries itself) */
    /* when it began to run and had its plan (cli_now_seconds, for MELSPEC_CLI_TIMING): a thread
     * placed on an idle core runs once that core wakes, which took from 0.2 to 11 ms on a busy
     * virtual machine */
    double running_at, plan_at;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct worker *_Atomic assigned; /* set when the run begins */
    atomic_int released;             /* set when there is no run for it */
} early_worker;

/* One worker thread: its own plan and buffers. */
typedef struct worker {
    shared_run *run;
    const cli_options *options;
    pthread_t thread;
    early_worker *early; /* the thread started before the run that runs it (NULL: none) */
    melspec_plan *plan;
    double plan_rate;
    int64_t reserved_signals, reserved_samples;
    float *output;
    size_t output_capacity;
    float *batch_input;
    size_t batch_input_capacity;
    worker_timing timing;
} worker;

/* One file waiting in a batch. */
typedef struct pending_file {
    size_t index;
    cli_audio audio;
} pending_file;

/* ---- outcomes ------------------------------------------------------------------------------ */

static void append(char **text, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char line[2048];
    vsnprintf(line, sizeof line, format, args);
    va_end(args);
    const size_t old = *text ? strlen(*text) : 0, extra = strlen(line);
    char *grown = realloc(*text, old + extra + 1);
    if (grown == NULL) return; /* a message lost to a full memory: nothing better to do */
    memcpy(grown + old, line, extra + 1);
    *text = grown;
}

static void fail_job(worker *w, size_t index, const char *why)
{
    job_outcome *outcome = &w->run->outcomes[index];
    append(&outcome->messages, "melspec: %s: %s\n", w->run->jobs->jobs[index].input, why);
    free(outcome->reason);
    outcome->reason = strdup(why);
    outcome->failed = 1;
}

/* Prints the finished outcomes that are next in input order. Called with the lock held. */
static void report_ready(shared_run *run, int flush_all)
{
    while (run->next_report < run->jobs->count) {
        job_outcome *o = &run->outcomes[run->next_report];
        if (!o->done) {
            if (!flush_all) break;
            run->next_report++;
            continue;
        }
        const char *input = run->jobs->jobs[run->next_report].input;
        cli_progress_clear(&run->progress);
        if (o->messages) {
            /* in order when stdout and stderr are one file (a log): what came before first,
             * this file's warnings next, then its statistics */
            fflush(run->stats);
            fputs(o->messages, run->messages);
            fflush(run->messages);
        }
        if (o->stats && run->print_stats) fputs(o->stats, run->stats);
        if (o->failed) {
            run->files_failed++;
            if (run->failures) fprintf(run->failures, "%s\t%s\n", input, o->reason ? o->reason : "");
        } else if (o->skipped) {
            run->files_skipped++;
        } else {
            run->files_processed++;
            run->audio_seconds += o->audio_seconds;
        }
        free(o->messages);
        free(o->stats);
        free(o->reason);
        o->messages = o->stats = o->reason = NULL;
        run->next_report++;
    }
    fflush(run->stats);
    cli_progress_update(&run->progress, run->files_finished, run->audio_finished);
}

static void complete_job(worker *w, size_t index)
{
    pthread_mutex_lock(&w->run->lock);
    w->run->outcomes[index].done = 1;
    w->run->files_finished++;
    w->run->audio_finished += w->run->outcomes[index].audio_seconds;
    report_ready(w->run, 0);
    pthread_mutex_unlock(&w->run->lock);
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

/* Gives w a plan made for audio at sample_rate (it owns it from now on). */
static void adopt_plan(worker *w, melspec_plan *plan, double sample_rate)
{
    melspec_config resolved;
    melspec_config_init(&resolved);
    if (plan == NULL || melspec_plan_config(plan, &resolved) != MELSPEC_OK) {
        melspec_plan_destroy(plan);
        return;
    }
    w->plan = plan;
    w->plan_rate = sample_rate;
    w->reserved_signals = resolved.max_batch;
    w->reserved_samples = resolved.max_samples;
}

static int prepare_plan(worker *s, double sample_rate, int64_t n_signals, int64_t n_samples,
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

static void stats_line(const cli_result *r, const cli_audio *audio, const char *input,
                       char **text)
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
    append(text, "%s: %s %s, %.2f s at %g Hz: min %.6g, max %.6g, mean %.6g%s\n", input,
           shape_text, r->complex_values ? "complex64" : "float32",
           (double)audio->n_samples / audio->sample_rate, audio->sample_rate, low, high,
           sum / (double)n, r->complex_values ? " (of |X|)" : "");
}

/* Whisper's own values: (max(log10 S, max - 8) + 4) / 4 of the mel power S. */
static int whisper_values(const cli_options *o)
{
    return o->whisper_log_mel && o->config.scaling == MELSPEC_SCALING_POWER_TO_DB;
}

static const char *transform_name(const cli_options *o)
{
    if (o->transform_cqt) return "constant-Q";
    if (whisper_values(o)) return "Whisper log-mel";
    switch ((melspec_transform)o->config.transform) {
    case MELSPEC_TRANSFORM_MEL: return "mel";
    case MELSPEC_TRANSFORM_LINEAR: return "linear";
    case MELSPEC_TRANSFORM_STFT: return "STFT";
    }
    return "?";
}

typedef struct figure_texts {
    char title[512];
    char value_caption[64];
} figure_texts;

/* The axes, title and colour bar caption of a figure of this file's result. */
static cli_figure describe_figure(const worker *w, const char *input, const cli_audio *audio,
                                  const cli_result *r, figure_texts *texts)
{
    char *title = texts->title;
    const size_t title_capacity = sizeof texts->title;
    const cli_options *o = w->options;
    melspec_config resolved = o->config;
    if (w->plan != NULL) melspec_plan_config(w->plan, &resolved);
    const char *slash = strrchr(input, '/');
    cli_figure f = {
        .title = title,
        .sample_rate = audio->sample_rate,
        .hop_length = (double)resolved.hop_length,
        .n_fft = (double)resolved.n_fft,
        .fmin = resolved.fmin,
        .fmax = resolved.fmax > 0.0 ? resolved.fmax : audio->sample_rate / 2.0,
        .htk = resolved.mel_scale == MELSPEC_MEL_SCALE_HTK,
        .options = o->figure,
    };
    if (r->kind == CLI_VALUES_LOG) {
        if (whisper_values(o))
            snprintf(texts->value_caption, sizeof texts->value_caption, "log10(S)/4 + 1");
        else
            snprintf(texts->value_caption, sizeof texts->value_caption, "ln(S + %g)",
                     resolved.log_offset);
        f.value_caption = texts->value_caption;
    }
    if (o->transform_cqt) {
        f.axis = CLI_AXIS_CQT;
        f.bins_per_octave = o->cqt.bins_per_octave > 0 ? (double)o->cqt.bins_per_octave : 12.0;
        f.fmin = o->config.fmin > 0.0 ? o->config.fmin : 32.703195662574829; /* C1 */
        f.hop_length = o->config.hop_length > 0 ? (double)o->config.hop_length : 512.0;
        snprintf(title, title_capacity, "%s: constant-Q, %lld bins, %g per octave, hop %g, %g Hz",
                 slash ? slash + 1 : input, (long long)r->n_bins, f.bins_per_octave,
                 f.hop_length, audio->sample_rate);
    } else {
        f.axis = resolved.transform == MELSPEC_TRANSFORM_MEL ? CLI_AXIS_MEL : CLI_AXIS_LINEAR;
        snprintf(title, title_capacity, "%s: %s, %lld %s, n_fft %lld, hop %lld, %g Hz",
                 slash ? slash + 1 : input, transform_name(o), (long long)r->n_bins,
                 f.axis == CLI_AXIS_MEL ? "bands" : "bins", (long long)resolved.n_fft,
                 (long long)resolved.hop_length, audio->sample_rate);
    }
    return f;
}

static int write_target(worker *w, const cli_target *target, const char *input,
                        const cli_audio *audio, const cli_result *r, char *why)
{
    cli_atomic_file file;
    /* What the planning allowed to exist may be replaced: with --overwrite any output, with
     * --skip-existing those of an input redone because some of its outputs were missing. */
    const int replace = w->options->overwrite || w->options->skip_existing;
    if (cli_atomic_open(&file, target->path, replace, why, WHY_CAPACITY) != 0) return -1;
    int written;
    if (target->format & CLI_FORMAT_FIGURES) {
        figure_texts texts;
        const cli_figure figure = describe_figure(w, input, audio, r, &texts);
        written = cli_write_figure_module(file.stream, target->format, r, &figure, why, WHY_CAPACITY);
    } else if (target->format == CLI_FORMAT_CSV) {
        written = cli_write_csv(file.stream, r, why, WHY_CAPACITY);
    } else {
        written = cli_write_npy(file.stream, r, why, WHY_CAPACITY);
    }
    if (written != 0 || stop_signal != 0) {
        char reason[WHY_CAPACITY / 2];
        snprintf(reason, sizeof reason, "%.*s", (int)sizeof reason - 1,
                 written != 0 ? why : "interrupted");
        snprintf(why, WHY_CAPACITY, "cannot write %.*s: %s", WHY_CAPACITY / 2 - 32, target->path,
                 reason);
        cli_atomic_discard(&file);
        return -1;
    }
    return cli_atomic_commit(&file, why, WHY_CAPACITY);
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
        return whisper_values(o) ? CLI_VALUES_LOG : CLI_VALUES_DB;
    case MELSPEC_SCALING_AMPLITUDE_TO_DB: return CLI_VALUES_DB;
    case MELSPEC_SCALING_LOG: return CLI_VALUES_LOG;
    case MELSPEC_SCALING_NONE: break;
    }
    return complex_output(o) ? CLI_VALUES_COMPLEX : CLI_VALUES_POWER;
}

/* Post-processing, outputs and statistics of one file whose result is at data. */
static void finish_file(worker *w, pending_file *file, float *data, int64_t n_bins,
                        int64_t n_frames)
{
    const cli_options *o = w->options;
    const melspec_config *c = &o->config;
    const cli_job *job = &w->run->jobs->jobs[file->index];
    job_outcome *outcome = &w->run->outcomes[file->index];
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
    outcome->audio_seconds = (double)file->audio.n_samples / file->audio.sample_rate;
    if (o->whisper_log_mel) {
        if (r.n_frames < 2) {
            fail_job(w, file->index, "too short for the whisper preset (one frame)");
            return;
        }
        drop_last_frame(&r);
        if (c->scaling == MELSPEC_SCALING_POWER_TO_DB) whisper_log_mel(&r, c->top_db);
    }
    const double write_start = cli_now_seconds();
    for (size_t t = 0; t < job->n_targets; t++) {
        if (write_target(w, &job->targets[t], job->input, &file->audio, &r, why) != 0) {
            fail_job(w, file->index, why);
            w->timing.write += cli_now_seconds() - write_start;
            return;
        }
    }
    w->timing.write += cli_now_seconds() - write_start;
    if (w->run->print_stats) stats_line(&r, &file->audio, job->input, &outcome->stats);
}

static void fail_all(worker *w, pending_file *files, size_t n, const char *why)
{
    for (size_t i = 0; i < n; i++) fail_job(w, files[i].index, why);
}

/* Runs the library on files[0..n) (same rate, channels and length) and finishes each. */
static void run_batch(worker *w, pending_file *files, size_t n)
{
    char why[WHY_CAPACITY];
    const cli_audio *first = &files[0].audio;
    const int64_t channels = first->n_channels, n_samples = first->n_samples;
    const int64_t n_signals = channels * (int64_t)n;
    if (prepare_plan(w, first->sample_rate, n_signals, n_samples, why) != 0) {
        fail_all(w, files, n, why);
        return;
    }
    int64_t n_bins, n_frames;
    size_t bytes;
    if (melspec_plan_output_shape(w->plan, n_samples, &n_bins, &n_frames) != MELSPEC_OK ||
        melspec_plan_output_bytes(w->plan, n_signals, n_samples, &bytes) != MELSPEC_OK) {
        fail_all(w, files, n, melspec_plan_last_error(w->plan));
        return;
    }
    const float *input = first->samples;
    const size_t per_file = (size_t)(channels * n_samples);
    if (n > 1) {
        if (grow(&w->batch_input, &w->batch_input_capacity, n * per_file * sizeof(float)) != 0) {
            fail_all(w, files, n, "out of memory");
            return;
        }
        for (size_t i = 0; i < n; i++)
            memcpy(w->batch_input + i * per_file, files[i].audio.samples,
                   per_file * sizeof(float));
        input = w->batch_input;
    }
    if (grow(&w->output, &w->output_capacity, bytes) != 0) {
        fail_all(w, files, n, "out of memory");
        return;
    }
    const double compute_start = cli_now_seconds();
    const melspec_status status =
        melspec_execute(w->plan, input, n_signals, n_samples, w->output, bytes);
    w->timing.compute += cli_now_seconds() - compute_start;
    w->timing.calls++;
    if (status != MELSPEC_OK) {
        if (n > 1) {
            /* One bad file (NaN samples, say) fails the call: find it by going one by one. */
            for (size_t i = 0; i < n; i++) run_batch(w, files + i, 1);
            return;
        }
        fail_job(w, files[0].index, melspec_plan_last_error(w->plan));
        return;
    }
    const size_t file_floats = bytes / sizeof(float) / n;
    for (size_t i = 0; i < n; i++)
        finish_file(w, &files[i], w->output + i * file_floats, n_bins, n_frames);
}

/* Files per library call: --batch when given; else a batch on a GPU (one transfer and one
 * launch for all) and one file on the CPU, where a call costs the same per signal whatever the
 * batch and batching only adds a copy and a working set beyond the caches (64 clips of 10 s,
 * real-time preset: 16% more CPU time with 16 files per call than with 1, perf stat). */
#define GPU_FILES_PER_CALL 16

static size_t files_per_call(const worker *w)
{
    if (w->options->batch_files > 0) return (size_t)w->options->batch_files;
    if (w->plan != NULL && melspec_plan_backend(w->plan) == MELSPEC_BACKEND_CPU) return 1;
    return GPU_FILES_PER_CALL;
}

static size_t max_files_per_call(const cli_options *o)
{
    return o->batch_files > 0 ? (size_t)o->batch_files : GPU_FILES_PER_CALL;
}

static int same_shape(const cli_audio *a, const cli_audio *b)
{
    return a->sample_rate == b->sample_rate && a->n_channels == b->n_channels &&
           a->n_samples == b->n_samples;
}

static void flush(worker *w, pending_file *batch, size_t *n_batch)
{
    if (*n_batch == 0) return;
    if (stop_signal == 0) {
        run_batch(w, batch, *n_batch);
        for (size_t i = 0; i < *n_batch; i++) complete_job(w, batch[i].index);
    }
    for (size_t i = 0; i < *n_batch; i++) cli_audio_free(&batch[i].audio);
    *n_batch = 0;
}

static int all_targets_exist(const cli_job *job)
{
    for (size_t t = 0; t < job->n_targets; t++)
        if (!cli_exists(job->targets[t].path)) return 0;
    return job->n_targets > 0;
}

/* Claims the next run of run->order: [*begin, *end), empty when none is left or a stop came.
 * Claims shrink as the inputs run out (a share of what is left, guided scheduling): early ones
 * are whole batches, the last ones single files, so that no worker is left with a long run
 * while the others have finished. */
static void claim(shared_run *run, size_t *begin, size_t *end)
{
    pthread_mutex_lock(&run->lock);
    *begin = run->next_claim;
    *end = *begin;
    if (stop_signal == 0) {
        const size_t left = run->jobs->count - *begin;
        size_t size = left / (2 * run->n_workers);
        if (size > run->max_claim) size = run->max_claim;
        if (size < 1) size = 1;
        *end = *begin + (left < size ? left : size);
    }
    run->next_claim = *end;
    pthread_mutex_unlock(&run->lock);
}

static void *work(void *argument)
{
    worker *w = argument;
    const cli_options *o = w->options;
    pending_file *batch = calloc(max_files_per_call(o), sizeof *batch);
    const cli_load_options load = {
        .mono = o->mono,
        .target_rate = o->native_rate ? 0.0 : o->config.sample_rate,
        .res_type = o->res_type,
        .offset = o->offset,
        .duration = o->duration,
        .strict = o->strict,
    };
    if (w->early != NULL) { /* this thread made it before the run */
        adopt_plan(w, w->early->plan, o->config.sample_rate);
        w->early->plan = NULL;
    }
    /* With a fixed rate the plan is made before the first file (here, in parallel with the
     * other workers), so that files_per_call knows the backend from the first file on; a
     * failure is reported with the first file. */
    if (w->plan == NULL && !o->native_rate) {
        melspec_config config = plan_config(o, o->config.sample_rate);
        char why[WHY_CAPACITY];
        melspec_plan *plan = NULL;
        if (create_plan(o, &config, &plan, why) == MELSPEC_OK)
            adopt_plan(w, plan, o->config.sample_rate);
    }
    w->timing.plan_ready = cli_now_seconds() - w->run->start_seconds;
    for (;;) {
        size_t begin, end;
        claim(w->run, &begin, &end);
        if (begin == end) break;
        size_t n_batch = 0;
        for (size_t k = begin; k < end && stop_signal == 0; k++) {
            const size_t i = w->run->order[k];
            const cli_job *job = &w->run->jobs->jobs[i];
            job_outcome *outcome = &w->run->outcomes[i];
            if (batch == NULL) {
                fail_job(w, i, "out of memory");
                complete_job(w, i);
                continue;
            }
            if (o->skip_existing && all_targets_exist(job)) {
                outcome->skipped = 1;
                complete_job(w, i);
                continue;
            }
            char why[WHY_CAPACITY];
            pending_file file = {.index = i};
            const double load_start = cli_now_seconds();
            const int load_result = cli_audio_load(job->input, &load, &file.audio, why, sizeof why);
            w->timing.load += cli_now_seconds() - load_start;
            w->timing.files++;
            if (load_result != 0) {
                fail_job(w, i, why);
                complete_job(w, i);
                continue;
            }
            if (file.audio.warning[0] != '\0')
                append(&outcome->messages, "melspec: %s: warning: %s\n", job->input,
                       file.audio.warning);
            if (n_batch > 0 && !same_shape(&batch[0].audio, &file.audio))
                flush(w, batch, &n_batch);
            batch[n_batch++] = file;
            if (n_batch >= files_per_call(w)) flush(w, batch, &n_batch);
        }
        flush(w, batch, &n_batch);
    }
    free(batch);
    w->timing.finished = cli_now_seconds() - w->run->start_seconds;
    return NULL;
}

/* Each backend with the library's reason (a CUDA plugin without a driver is not "not
 * compiled"), as `python -m melspec --version` prints them. */
static void print_versions(void)
{
    printf("melspec %s (library %s)\n", MELSPEC_CLI_VERSION, melspec_version_string());
    const struct {
        const char *name;
        melspec_backend backend;
    } backends[] = {{"cpu", MELSPEC_BACKEND_CPU},
                    {"cuda", MELSPEC_BACKEND_CUDA},
                    {"auto", MELSPEC_BACKEND_AUTO}};
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
        char why[WHY_CAPACITY];
        const int usable = melspec_backend_available(backends[i].backend, why, sizeof why) ==
                           MELSPEC_OK;
        printf("  %s: %s: %s\n", backends[i].name, usable ? "available" : "unavailable", why);
    }
    printf("  CUDA devices: %d\n", melspec_cuda_device_count());
    printf("%s\n", cli_audio_sndfile_version());
    printf("%s\n", soxr_version());
}


/* With a fixed rate the whole config can be checked once, before any file is read. The plan
 * made for the check is kept for the first worker (*checked), so that the run does not plan the
 * same transform twice before its first file. */
static int check_config(const cli_options *o, melspec_plan **checked)
{
    *checked = NULL;
    if (o->native_rate) return 0;
    melspec_config config = plan_config(o, o->config.sample_rate);
    char why[WHY_CAPACITY];
    if (create_plan(o, &config, checked, why) != MELSPEC_OK) {
        fprintf(stderr, "melspec: %s\n", why);
        return -1;
    }
    return 0;
}

/* ---- MELSPEC_CLI_TIMING=1: where the time went, for finding what does not run in parallel --- */

typedef struct phase_times {
    double main_entered, workers_started, config_checked, inputs_found, outputs_checked,
        run_started, run_ended;
} phase_times;

static phase_times phases; /* written by the main thread only, before and after the workers */

static void print_timing(FILE *stream, const worker *workers, size_t n_workers)
{
    if (getenv("MELSPEC_CLI_TIMING") == NULL) return;
    const double ms = 1e3;
    fprintf(stream,
            "melspec: timing: before the run %.2f ms (early workers and decoders %.2f, config "
            "and plan %.2f, inputs %.2f, outputs %.2f), run %.2f ms, %zu worker(s)\n",
            (phases.run_started - phases.main_entered) * ms,
            (phases.workers_started - phases.main_entered) * ms,
            (phases.config_checked - phases.workers_started) * ms,
            (phases.inputs_found - phases.config_checked) * ms,
            (phases.outputs_checked - phases.inputs_found) * ms,
            (phases.run_ended - phases.run_started) * ms, n_workers);
    for (size_t i = 0; i < n_workers; i++) {
        const worker_timing *t = &workers[i].timing;
        const double busy = t->load + t->compute + t->write;
        fprintf(stream,
                "melspec: timing: worker %zu: %zu file(s) in %zu library call(s), plan ready at "
                "%.2f ms, load %.2f ms, library %.2f ms, write %.2f ms, other %.2f ms, idle at "
                "the end %.2f ms\n",
                i, t->files, t->calls, t->plan_ready * ms, t->load * ms, t->compute * ms,
                t->write * ms, (t->finished - t->plan_ready - busy) * ms,
                (phases.run_ended - phases.run_started - t->finished) * ms);
        const early_worker *e = workers[i].early;
        if (e != NULL)
            fprintf(stream,
                    "melspec: timing: worker %zu, started with the command: running at %.2f ms, "
                    "plan made at %.2f ms (the run began at %.2f ms)\n",
                    i, (e->running_at - phases.main_entered) * ms,
                    (e->plan_at - phases.main_entered) * ms,
                    (phases.run_started - phases.main_entered) * ms);
    }
}

/* ---- planning: where every result goes ---------------------------------------------------- */

static int plan_error(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fprintf(stderr, "melspec: ");
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
    return -1;
}

/* A path under /dev names a device: writing a file there is never what was meant, except in
 * /dev/shm (a tmpfs for files, where people put scratch outputs) and /dev/null. */
static int in_dev(const char *path)
{
    return strncmp(path, "/dev/", 5) == 0 && strncmp(path, "/dev/shm/", 9) != 0 &&
           strcmp(path, "/dev/null") != 0;
}

/* Gives every job its targets from -o and --format; reports and returns -1 for combinations
 * that make no sense, before any file is read. */
static int plan_targets(const cli_options *o, cli_job_list *jobs, int *to_stdout)
{
    char why[WHY_CAPACITY];
    *to_stdout = 0;
    if (o->n_outputs == 0) return 0;
    const int one_input = jobs->count == 1 && !cli_is_directory(o->inputs[0]);
    if (o->n_outputs > 1 || (cli_format_from_path(o->outputs[0]) != 0 &&
                             !cli_is_directory(o->outputs[0]))) {
        /* Files named one by one: exactly one input. */
        if (!one_input)
            return plan_error("-o %s names a file but there are %zu inputs: give a directory",
                              o->outputs[0], jobs->count);
        cli_target targets[16];
        if (o->n_outputs > 16) return plan_error("at most 16 -o");
        for (size_t i = 0; i < o->n_outputs; i++) {
            targets[i].path = (char *)o->outputs[i];
            targets[i].format = cli_format_from_path(o->outputs[i]);
            if (strcmp(o->outputs[i], "-") == 0)
                return plan_error("-o - (stdout) takes no other -o");
            if (in_dev(o->outputs[i]))
                return plan_error("-o %s: /dev holds devices, not files (use -o - for stdout)",
                                  o->outputs[i]);
            if (o->formats != 0 && o->formats != targets[i].format)
                return plan_error("-o %s and --format disagree", o->outputs[i]);
        }
        return cli_set_targets(jobs, targets, o->n_outputs, why, sizeof why) == 0
                   ? 0
                   : plan_error("%s", why);
    }
    const char *output = o->outputs[0];
    if (strcmp(output, "-") == 0) {
        if (!one_input) return plan_error("-o - (stdout) takes exactly one input file");
        if (o->formats != CLI_FORMAT_NPY && o->formats != CLI_FORMAT_CSV)
            return plan_error("-o - (stdout) needs --format npy or --format csv");
        if (isatty(STDOUT_FILENO) && o->formats == CLI_FORMAT_NPY)
            return plan_error("-o -: stdout is a terminal; redirect it to a file or a pipe");
        const cli_target target = {(char *)"-", o->formats};
        *to_stdout = 1;
        return cli_set_targets(jobs, &target, 1, why, sizeof why) == 0 ? 0 : plan_error("%s", why);
    }
    /* A directory: it exists, or its name has no extension, or it ends in '/'. */
    const char *slash = strrchr(output, '/');
    const char *dot = strrchr(output, '.');
    const size_t length = strlen(output);
    if (!cli_is_directory(output) && output[length - 1] != '/' && dot != NULL &&
        (slash == NULL || dot > slash) && dot != output && dot[-1] != '/') {
        return plan_error("-o %s: unknown output format '%s' (known: .npy .csv .png .svg .pdf); "
                          "for a directory of that name, end it with '/'",
                          output, dot);
    }
    if (cli_exists(output) && !cli_is_directory(output))
        return plan_error("-o %s exists and is not a directory", output);
    if (in_dev(output)) return plan_error("-o %s: /dev holds devices, not files", output);
    const unsigned formats = o->formats != 0 ? o->formats : CLI_FORMAT_NPY;
    if (cli_plan_directory_targets(jobs, output, formats, cli_format_extension, why,
                                   sizeof why) != 0)
        return plan_error("%s", why);
    return 0;
}

/* Collisions, outputs that exist, directories that cannot be written: all before any work. */
static int check_targets(const cli_options *o, const cli_job_list *jobs)
{
    char why[WHY_CAPACITY];
    if (cli_find_collision(jobs, why, sizeof why) != 0) return plan_error("%s", why);
    if (!o->overwrite && !o->skip_existing) {
        size_t existing = 0;
        const char *first = NULL;
        /* Nothing exists in a directory that does not: one check per directory of a fresh
         * output tree instead of one per file (sorted targets share their directories). */
        const char *last_parent = NULL;
        size_t last_parent_length = 0;
        int last_parent_exists = 1;
        for (size_t i = 0; i < jobs->count; i++)
            for (size_t t = 0; t < jobs->jobs[i].n_targets; t++) {
                const char *path = jobs->jobs[i].targets[t].path;
                if (strcmp(path, "-") == 0) continue;
                const char *slash = strrchr(path, '/');
                const size_t parent_length = slash != NULL ? (size_t)(slash - path) : 0;
                if (parent_length == 0) { /* the current or the root directory */
                    last_parent_exists = 1;
                    last_parent = NULL;
                } else if (last_parent == NULL || parent_length != last_parent_length ||
                           strncmp(path, last_parent, parent_length) != 0) {
                    char *parent = strndup(path, parent_length);
                    if (parent == NULL) return plan_error("out of memory");
                    last_parent_exists = cli_exists(parent);
                    free(parent);
                    last_parent = path;
                    last_parent_length = parent_length;
                }
                if (last_parent_exists && cli_exists(path)) {
                    if (first == NULL) first = path;
                    existing++;
                }
            }
        if (existing > 0)
            return plan_error("%s exists (%zu output(s) in all exist): nothing was written "
                              "(--overwrite replaces outputs, --skip-existing keeps them)",
                              first, existing);
    }
    /* Each distinct parent directory is made and probed once: sorted targets share them. */
    const char *last_checked = NULL;
    size_t last_length = 0;
    for (size_t i = 0; i < jobs->count; i++) {
        for (size_t t = 0; t < jobs->jobs[i].n_targets; t++) {
            const char *path = jobs->jobs[i].targets[t].path;
            if (strcmp(path, "-") == 0) continue;
            char *parent = cli_parent_directory(path);
            if (parent == NULL) return plan_error("out of memory");
            const size_t n = strlen(parent);
            const int same = last_checked != NULL && n == last_length &&
                             strncmp(parent, last_checked, n) == 0;
            if (!same && cli_check_output_directory(parent, why, sizeof why) != 0) {
                free(parent);
                return plan_error("%s", why);
            }
            free(parent);
            last_checked = path;
            last_length = n;
        }
    }
    return 0;
}

static size_t available_cores(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return (size_t)CPU_COUNT(&set);
    const long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (size_t)online : 1;
}

static void install_signal_handlers(void)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = request_stop;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
}

/* The order in which inputs are claimed. Largest files first (with a fixed rate), so that the
 * run does not end with one worker alone on a long file: the size stands for the duration, and
 * files of one size, likely of one length, come next to each other and share library calls.
 * With --sr native the input order is kept, so that files of one rate stay together and each
 * worker's plan is made again only where the rate changes. Reports keep the input order. */
static const cli_job_list *sort_jobs; /* qsort has no context argument */

static int larger_first(const void *a, const void *b)
{
    const size_t x = *(const size_t *)a, y = *(const size_t *)b;
    const long long bx = sort_jobs->jobs[x].bytes, by = sort_jobs->jobs[y].bytes;
    if (bx != by) return bx > by ? -1 : 1;
    return (x > y) - (x < y); /* equal sizes: input order */
}

static size_t *claim_order(const cli_options *o, const cli_job_list *jobs)
{
    size_t *order = malloc(jobs->count * sizeof *order);
    if (order == NULL) return NULL;
    for (size_t i = 0; i < jobs->count; i++) order[i] = i;
    if (!o->native_rate) {
        sort_jobs = jobs;
        qsort(order, jobs->count, sizeof *order, larger_first);
        sort_jobs = NULL;
    }
    return order;
}

/* ---- workers started while the inputs are found ---------------------------------------------- */

/* With a fixed rate every worker's plan is the same. The first worker (the main thread) gets the
 * plan that checked the config; the others are threads started right after the options are
 * read and the decoders loaded, which make theirs in parallel with that check, the scan of the
 * inputs and the check of the outputs, and are then ready when the run begins: nothing is left
 * to start then (a thread started then began up to 4 ms late, see threads.c, and its creation
 * held up the main thread's first file). One per core at most: workers past the cores (--jobs
 * larger than the machine) are started with the run and make their own. */
typedef struct early_workers {
    early_worker *threads;
    size_t count;
} early_workers;

/* How long a worker made before the run waits for it by polling, before it sleeps: the main
 * thread usually begins the run within a millisecond, and a sleeping thread is woken on its
 * waker's core (where it waited up to a 4 ms scheduler tick here, see threads.c). */
#define EARLY_POLL_SECONDS 0.005

static struct worker *wait_for_run(early_worker *e)
{
    const double give_up = cli_now_seconds() + EARLY_POLL_SECONDS;
    for (unsigned spins = 0;; spins++) {
        struct worker *w = atomic_load(&e->assigned);
        if (w != NULL || atomic_load(&e->released)) return w;
        if ((spins & 1023u) == 0 && cli_now_seconds() > give_up) break;
    }
    pthread_mutex_lock(&e->lock);
    while (atomic_load(&e->assigned) == NULL && !atomic_load(&e->released))
        pthread_cond_wait(&e->wake, &e->lock);
    pthread_mutex_unlock(&e->lock);
    return atomic_load(&e->assigned);
}

static void *early_worker_main(void *argument)
{
    early_worker *e = argument;
    e->running_at = cli_now_seconds();
    melspec_config config = plan_config(e->options, e->options->config.sample_rate);
    char why[WHY_CAPACITY];
    if (create_plan(e->options, &config, &e->plan, why) != MELSPEC_OK) e->plan = NULL;
    e->plan_at = cli_now_seconds();
    struct worker *w = wait_for_run(e);
    return w != NULL ? work(w) : NULL;
}

/* Gives e its worker (w != NULL: the run begins) or lets it go (NULL). */
static void early_worker_assign(early_worker *e, struct worker *w)
{
    pthread_mutex_lock(&e->lock);
    if (w != NULL) atomic_store(&e->assigned, w);
    else atomic_store(&e->released, 1);
    pthread_cond_signal(&e->wake);
    pthread_mutex_unlock(&e->lock);
}

static early_workers early_workers_start(const cli_options *o)
{
    early_workers early = {NULL, 0};
    if (o->native_rate) return early; /* the rate comes with each file */
    const size_t cores = available_cores();
    const size_t workers = o->jobs > 0 ? (size_t)o->jobs : cores;
    const size_t count = (workers < cores ? workers : cores) - 1;
    if (count == 0 || (early.threads = calloc(count, sizeof *early.threads)) == NULL) return early;
    early.count = count;
    /* The decoders before the first thread: libraries loaded while another thread of the
     * process runs make the kernel flush that thread's TLB for each page the loader writes
     * (relocations, RELRO), an interrupt to the other core each time (perf: 2% of a 200-clip
     * --jobs 2 run in smp_call_function_many_cond; none with the load here). */
    cli_audio_preload();
    for (size_t i = 0; i < count; i++) {
        early_worker *e = &early.threads[i];
        e->options = o;
        pthread_mutex_init(&e->lock, NULL);
        pthread_cond_init(&e->wake, NULL);
        e->started = cli_thread_start(&e->thread, early_worker_main, e, i) == 0;
    }
    return early;
}

/* Lets go and joins the early workers the run did not take, and destroys the plans left over. */
static void early_workers_finish(early_workers *early)
{
    for (size_t i = 0; i < early->count; i++) {
        early_worker *e = &early->threads[i];
        if (e->started && !e->joined) {
            early_worker_assign(e, NULL);
            pthread_join(e->thread, NULL);
        }
        melspec_plan_destroy(e->plan);
        pthread_cond_destroy(&e->wake);
        pthread_mutex_destroy(&e->lock);
    }
    free(early->threads);
    early->threads = NULL;
    early->count = 0;
}

/* Runs every job on the workers; returns the exit status. *checked_plan (the plan check_config
 * made, or NULL) goes to the first worker; it is NULL on return. The next workers take the
 * plans of early (those that were started). */
static int run_jobs(const cli_options *o, const cli_job_list *jobs, int to_stdout,
                    melspec_plan **checked_plan, early_workers *early)
{
    shared_run run;
    memset(&run, 0, sizeof run);
    run.options = o;
    run.jobs = jobs;
    /* libsndfile's MP3 decoder writes to file descriptor 2 itself, and audio.c points that at
     * /dev/null while it decodes MP3: the command's own messages go through a copy of it. */
    const int messages_fd = dup(STDERR_FILENO);
    run.messages = messages_fd >= 0 ? fdopen(messages_fd, "w") : NULL;
    if (run.messages == NULL) run.messages = stderr;
    run.stats = to_stdout ? run.messages : stdout;
    run.print_stats = !o->quiet && (o->stats || o->n_outputs == 0);
    run.outcomes = calloc(jobs->count, sizeof *run.outcomes);
    size_t n_workers = o->jobs > 0 ? (size_t)o->jobs : available_cores();
    if (n_workers > jobs->count) n_workers = jobs->count;
    worker *workers = calloc(n_workers, sizeof *workers);
    run.order = claim_order(o, jobs);
    if (run.outcomes == NULL || workers == NULL || run.order == NULL) {
        melspec_plan_destroy(*checked_plan);
        *checked_plan = NULL;
        fprintf(run.messages, "melspec: out of memory\n");
        free(run.outcomes);
        free(run.order);
        free(workers);
        if (run.messages != stderr) fclose(run.messages);
        return 1;
    }
    if (o->failures_path != NULL) {
        run.failures = fopen(o->failures_path, "w");
        if (run.failures == NULL)
            fprintf(run.messages, "melspec: --failures %s: %s\n", o->failures_path,
                    strerror(errno));
    }
    /* Claims small enough that every worker gets a share, at most a batch each. */
    run.n_workers = n_workers;
    run.max_claim = max_files_per_call(o);
    pthread_mutex_init(&run.lock, NULL);
    install_signal_handlers();
    cli_progress_start(&run.progress, run.messages, !o->quiet, jobs->count);
    const double start = cli_now_seconds();
    run.start_seconds = phases.run_started = start;

    size_t started = 0;
    for (size_t i = 0; i < n_workers; i++) workers[i] = (worker){.run = &run, .options = o};
    for (size_t i = 0; i < n_workers; i++) {
        early_worker *e = i > 0 && i - 1 < early->count && early->threads[i - 1].started
                            ? &early->threads[i - 1]
                            : NULL;
        if (i == 0) {
            adopt_plan(&workers[0], *checked_plan, o->config.sample_rate);
        } else if (e != NULL) { /* running already: it only needs its worker */
            workers[i].early = e;
            workers[i].thread = e->thread;
            e->joined = 1; /* by the loop below */
            early_worker_assign(e, &workers[i]);
        } else if (cli_thread_start(&workers[i].thread, work, &workers[i], i - 1) != 0) {
            break;
        }
        started++;
    }
    *checked_plan = NULL;
    /* Worker 0 runs on this thread: --jobs 1 is the plain loop, with no thread at all. */
    work(&workers[0]);
    for (size_t i = 1; i < started; i++) pthread_join(workers[i].thread, NULL);
    phases.run_ended = cli_now_seconds();

    pthread_mutex_lock(&run.lock);
    report_ready(&run, 1);
    pthread_mutex_unlock(&run.lock);
    if (run.progress.drawn) fputc('\n', run.messages); /* keep the final bar on screen */
    const double seconds = cli_now_seconds() - start;
    const size_t not_done = jobs->count - run.files_processed - run.files_failed -
                            run.files_skipped;
    char duration[32];
    cli_format_duration(run.audio_seconds, duration, sizeof duration);
    /* The summary: for batches (one file's statistics say it all), failures and stops. */
    if ((!o->quiet && jobs->count > 1) || run.files_failed > 0 || stop_signal != 0) {
        fprintf(run.messages,
                "melspec: %zu file(s) processed (%s of audio) in %.2f s, %zu failed, %zu skipped",
                run.files_processed, duration, seconds, run.files_failed, run.files_skipped);
        if (not_done > 0) fprintf(run.messages, ", %zu not done", not_done);
        fputc('\n', run.messages);
    }
    int status = run.files_failed > 0 ? 1 : 0;
    if (stop_signal != 0) {
        fprintf(run.messages,
                "melspec: interrupted by %s: the outputs written are complete; run again with "
                "--skip-existing to resume\n",
                stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
        status = 128 + stop_signal;
    }
    if (run.failures != NULL && fclose(run.failures) != 0) {
        fprintf(run.messages, "melspec: --failures %s: %s\n", o->failures_path, strerror(errno));
        status = status ? status : 1;
    }
    print_timing(run.messages, workers, started);
    for (size_t i = 0; i < n_workers; i++) {
        melspec_plan_destroy(workers[i].plan);
        free(workers[i].output);
        free(workers[i].batch_input);
    }
    free(workers);
    free(run.outcomes);
    free(run.order);
    pthread_mutex_destroy(&run.lock);
    fflush(stdout);
    if (run.messages != stderr) fclose(run.messages);
    return status;
}

/* ---- the command --------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    phases.main_entered = cli_now_seconds();
#ifdef __GLIBC__
    /* Each file's samples are allocated and freed again. With glibc's defaults, blocks above
     * 128 KiB come from mmap and go back to the kernel when freed, so every file faulted its
     * pages in afresh and each munmap interrupted the other workers to flush their TLBs:
     * freed memory now stays in the heap, where the next file reuses it. */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
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
    melspec_plan *checked_plan = NULL;
    early_workers early = {NULL, 0};

    if (options.generate_example != NULL) {
        if (cli_generate_example(options.generate_example, why, sizeof why) != 0) {
            fprintf(stderr, "melspec: %s: %s\n", options.generate_example, why);
            exit_code = 1;
        } else if (!options.quiet) {
            printf("wrote %s (3 s: chirp, tones, noise)\n", options.generate_example);
        }
        goto done;
    }
    early = early_workers_start(&options);
    phases.workers_started = cli_now_seconds();
    if (check_config(&options, &checked_plan) != 0) {
        exit_code = 2;
        goto done;
    }
    phases.config_checked = cli_now_seconds();
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
    phases.inputs_found = cli_now_seconds();
    int to_stdout;
    if (plan_targets(&options, &jobs, &to_stdout) != 0 || check_targets(&options, &jobs) != 0) {
        exit_code = 2;
        goto done;
    }
    phases.outputs_checked = cli_now_seconds();
    const int run_status = run_jobs(&options, &jobs, to_stdout, &checked_plan, &early);
    if (run_status != 0) exit_code = run_status;

done:
    early_workers_finish(&early);
    melspec_plan_destroy(checked_plan);
    cli_job_list_free(&jobs);
    cli_options_free(&options);
    return exit_code;
}
