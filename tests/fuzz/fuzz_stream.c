/* Fuzz target: a stream fed by a fuzzer-chosen sequence of pushes (any size, zero included),
 * flushes and resets, compared bit for bit with melspec_execute on the same samples (the
 * streaming contract: same frame count, same bytes), with guard bytes after every buffer. */
#include "fuzz_input.h"

enum { MAX_OPS = 64 };

typedef struct signal_log { /* what the stream has received since its last reset */
    float *samples;
    int64_t n, capacity;
    unsigned char *frames; /* what it has written */
    size_t n_bytes, bytes_capacity;
} signal_log;

static void append(void **buffer, size_t *capacity, size_t used, const void *data, size_t size)
{
    if (used + size > *capacity) {
        *capacity = 2 * (used + size);
        *buffer = realloc(*buffer, *capacity);
        if (!*buffer) abort();
    }
    if (size) memcpy((unsigned char *)*buffer + used, data, size);
}

static void log_samples(signal_log *log, const float *x, int64_t n)
{
    size_t capacity = (size_t)log->capacity * sizeof(float);
    append((void **)&log->samples, &capacity, (size_t)log->n * sizeof(float), x,
           (size_t)n * sizeof(float));
    log->capacity = (int64_t)(capacity / sizeof(float));
    log->n += n;
}

static void log_frames(signal_log *log, const unsigned char *frames, size_t n_bytes)
{
    append((void **)&log->frames, &log->bytes_capacity, log->n_bytes, frames, n_bytes);
    log->n_bytes += n_bytes;
}

/* The offline transform of everything the stream received must be what it wrote (flushed), or
 * begin with it (not flushed: the frames that need the end are still to come). */
static void compare_with_offline(melspec_plan *plan, const melspec_config *c, signal_log *log,
                                 int flushed)
{
    if (log->n == 0 || (!c->center && log->n < c->n_fft)) {
        if (log->n_bytes != 0) abort(); /* the documented zero-frame cases */
    } else if (!flushed && c->center && c->pad_mode == MELSPEC_PAD_REFLECT &&
               log->n <= c->n_fft / 2) {
        /* execute cannot reflect so short a signal; the stream has waited (nothing to check) */
    } else {
        size_t n_bytes = 0;
        if (melspec_plan_output_bytes(plan, 1, log->n, &n_bytes) != MELSPEC_OK) abort();
        unsigned char *offline = fuzz_guarded_alloc(n_bytes);
        const melspec_status status = melspec_execute(plan, log->samples, 1, log->n, offline,
                                                      n_bytes);
        fuzz_check_status(status);
        fuzz_check_guard(offline, n_bytes);
        if (status == MELSPEC_OK) {
            if (flushed ? n_bytes != log->n_bytes : n_bytes < log->n_bytes) abort();
            if (log->n_bytes && memcmp(offline, log->frames, log->n_bytes) != 0) abort();
        } else if (flushed) {
            abort(); /* the stream took a signal the offline transform refuses */
        }
        free(offline);
    }
    log->n = 0;
    log->n_bytes = 0;
}

static void fill_config(fuzz_input *in, melspec_config *c)
{
    static const double powers[] = {2.0, 1.0, 0.5};
    melspec_config_init(c);
    c->backend = MELSPEC_BACKEND_CPU;
    c->sample_rate = 16000.0;
    c->transform = fuzz_pick(in, 3);
    c->n_fft = 1 + fuzz_size(in, 47, 299); /* mostly small: the FFTs are most of the time */
    c->hop_length = 1 + fuzz_u16(in) % c->n_fft;
    c->win_length = 1 + fuzz_u16(in) % c->n_fft;
    c->window = fuzz_pick(in, 3);
    c->center = fuzz_pick(in, 2);
    c->pad_mode = fuzz_pick(in, 3);
    c->power = fuzz_double(in, powers, 3);
    c->n_mels = 1 + fuzz_pick(in, 16);
    c->mel_norm = fuzz_pick(in, 2);
    c->scaling = fuzz_pick(in, 4);
    c->top_db = fuzz_pick(in, 4) == 0 ? 80.0 : INFINITY; /* 80 is refused (needs the clip) */
    c->ref_mode = fuzz_pick(in, 4) == 0 ? MELSPEC_REF_MAX : MELSPEC_REF_VALUE;
    c->layout = MELSPEC_LAYOUT_FRAMES_MAJOR;
    c->output_dtype = fuzz_pick(in, 3);
    c->max_samples = 1 + fuzz_size(in, 255, 2047);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size, 0};
    melspec_config config;
    fill_config(&in, &config);
    melspec_plan *plan = NULL;
    char message[256];
    if (melspec_plan_create(&plan, &config, message, sizeof message) != MELSPEC_OK) return 0;
    melspec_stream *stream = NULL;
    const melspec_status created = melspec_stream_create(&stream, plan);
    fuzz_check_status(created);
    if (created != MELSPEC_OK) {
        if (stream != NULL) abort();
        melspec_plan_destroy(plan);
        return 0;
    }
    size_t frame_bytes = 0;
    if (melspec_stream_frame_bytes(stream, &frame_bytes) != MELSPEC_OK || frame_bytes == 0) abort();
    signal_log log = {0};
    int flushed = 0;
    for (int op = 0; op < MAX_OPS && fuzz_remaining(&in) > 0; op++) {
        const int32_t kind = fuzz_pick(&in, 8);
        int64_t n_frames = -1;
        /* room for this many frames; too few must be BUFFER_TOO_SMALL and consume nothing */
        const size_t room = (size_t)fuzz_u8(&in) % 12 * frame_bytes;
        unsigned char *frames = fuzz_guarded_alloc(room);
        melspec_status status;
        if (kind == 0) {
            status = melspec_stream_flush(stream, frames, room, &n_frames);
            if (status == MELSPEC_OK) flushed = 1;
        } else if (kind == 1) {
            compare_with_offline(plan, &config, &log, flushed);
            status = melspec_stream_reset(stream);
            if (status != MELSPEC_OK) abort();
            flushed = 0;
        } else {
            const int64_t n = kind == 2 ? 0 : fuzz_u8(&in) % (2 * config.n_fft + 3);
            float *chunk = fuzz_signal(&in, FUZZ_SIGNAL_AUDIO, n);
            if (n > 0 && fuzz_pick(&in, 32) == 0) chunk[n - 1] = NAN; /* must consume nothing */
            status = melspec_stream_push(stream, chunk, n, frames, room, &n_frames);
            if (status == MELSPEC_OK) {
                if (flushed) abort(); /* push after flush must be refused until reset */
                log_samples(&log, chunk, n);
            }
            free(chunk);
        }
        fuzz_check_status(status);
        fuzz_check_guard(frames, room);
        if (status == MELSPEC_OK && kind != 1) {
            if (n_frames < 0 || (size_t)n_frames * frame_bytes > room) abort();
            log_frames(&log, frames, (size_t)n_frames * frame_bytes);
        } else if (status == MELSPEC_ERROR_BUFFER_TOO_SMALL &&
                   (size_t)n_frames * frame_bytes <= room) {
            abort(); /* refused a buffer that was large enough */
        }
        free(frames);
    }
    compare_with_offline(plan, &config, &log, flushed);
    free(log.samples);
    free(log.frames);
    melspec_stream_destroy(stream);
    melspec_plan_destroy(plan);
    return 0;
}
