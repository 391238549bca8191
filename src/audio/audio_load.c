/* librosa.load's steps (include/melspec_audio.h): soundfile's read (libsndfile), to_mono (the
 * float32 mean of the channels), resample at res_type as the rows decode (resampler.h),
 * fix_length to ceil(n * ratio).
 * The one loader: melspec.load (python/melspec/_audio.py) and the melspec command
 * (tools/cli/audio.c) call it, so what a damaged file gives is decided here only. */
#define _GNU_SOURCE /* glibc's writer-preferring read-write lock (open_lock below) */
#include "melspec_audio.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>
#include <soxr.h>

#include "../soxr_recipe.h"
#include "fail.h"
#include "planar_rows.h"
#include "resampler.h"

#if defined(__GNUC__)
#define NOT_INLINED __attribute__((noinline))
#else
#define NOT_INLINED
#endif

void melspec_audio_options_init(melspec_audio_options *options)
{
    if (options == NULL) return;
    memset(options, 0, sizeof *options);
    options->struct_size = (uint32_t)sizeof *options;
    options->mono = 1;
    options->sample_rate = 22050.0;
    options->offset = 0.0;
    options->duration = -1.0;
    options->res_type = MELSPEC_CQT_RES_SOXR_HQ;
}

void melspec_audio_free(melspec_audio *audio)
{
    if (audio == NULL) return;
    free(audio->samples);
    memset(audio, 0, sizeof *audio);
}

int64_t melspec_audio_resampled_length(int64_t n_input, double input_rate, double output_rate)
{
    /* librosa: ratio = float(target_sr) / orig_sr; n_samples = int(np.ceil(n * ratio)) */
    const double ratio = output_rate / input_rate;
    return (int64_t)ceil((double)n_input * ratio);
}

/* librosa.resample(res_type="soxr_...") of one signal at libsoxr's recipe, fixed to n_output
 * samples. */
static melspec_status resample_with(long recipe, const float *input, int64_t n_input,
                                    double input_rate, double output_rate, float *output,
                                    int64_t n_output, char *message, size_t capacity)
{
    if (input == NULL || output == NULL)
        return fail(MELSPEC_ERROR_NULL_POINTER, message, capacity, "input or output is NULL");
    if (n_input < 1 || n_output < 0 || !(input_rate > 0.0) || !(output_rate > 0.0) ||
        !isfinite(input_rate) || !isfinite(output_rate))
        return fail(MELSPEC_ERROR_INVALID_ARGUMENT, message, capacity,
                    "resample: n_input = %lld, n_output = %lld, rates %g -> %g Hz: need n_input "
                    ">= 1, n_output >= 0 and finite positive rates", (long long)n_input,
                    (long long)n_output, input_rate, output_rate);
    melspec_row_resampler resampler;
    melspec_status status = melspec_row_resampler_open(&resampler, recipe, 1, input_rate,
                                                       output_rate, n_input, message, capacity);
    if (status == MELSPEC_OK)
        status = melspec_row_resampler_feed(&resampler, input, 0, n_input, message, capacity);
    float *resampled = NULL;
    if (status == MELSPEC_OK)
        status = melspec_row_resampler_finish(&resampler, n_output, &resampled, message,
                                              capacity);
    melspec_row_resampler_close(&resampler);
    if (status == MELSPEC_OK && n_output > 0)
        memcpy(output, resampled, (size_t)n_output * sizeof *output);
    free(resampled);
    return status;
}

melspec_status melspec_audio_resample(const float *input, int64_t n_input, double input_rate,
                                      double output_rate, float *output, int64_t n_output,
                                      char *message, size_t capacity)
{
    return resample_with(SOXR_HQ, input, n_input, input_rate, output_rate, output, n_output,
                         message, capacity);
}

/* ---- encoded files in memory (pipes, FIFOs, callers' buffers), decoded through virtual I/O */

typedef struct memory_file {
    const unsigned char *bytes;
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
    return 0; /* opened for reading only */
}

static sf_count_t memory_tell(void *user) { return ((memory_file *)user)->position; }

/* All of a file that cannot seek, into *bytes (malloc'ed). */
static melspec_status read_to_end(int descriptor, unsigned char **bytes, size_t *n_bytes,
                                  char *message, size_t capacity)
{
    size_t allocated = 0, size = 0;
    unsigned char *buffer = NULL;
    for (;;) {
        if (size == allocated) {
            allocated = allocated ? 2 * allocated : (size_t)1 << 20;
            unsigned char *grown = realloc(buffer, allocated);
            if (grown == NULL) {
                free(buffer);
                return fail(MELSPEC_ERROR_OUT_OF_MEMORY, message, capacity,
                            "out of memory after reading %zu bytes", size);
            }
            buffer = grown;
        }
        const ssize_t got = read(descriptor, buffer + size, allocated - size);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            free(buffer);
            return fail(MELSPEC_ERROR_INVALID_ARGUMENT, message, capacity, "cannot read: %s",
                        strerror(errno));
        }
        if (got == 0) break;
        size += (size_t)got;
    }
    *bytes = buffer;
    *n_bytes = size;
    return MELSPEC_OK;
}

/* ---- what a damaged file gives ------------------------------------------------------------- */

/* libsndfile shortens a WAV-family file whose data chunk runs past the end of the file to the
 * frames that are there (what soundfile, hence librosa.load, returns) and notes
 * "data : <declared> (should be <present>)" in its log: that is how a cut is recognised.
 * Streamed WAVs that declare 0 or 0xFFFFFFFF bytes are left alone. */
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

/* A reader of interleaved float frames: 16-bit PCM (most speech corpora) is read as integers
 * and converted here, a loop the compiler vectorizes, where libsndfile's conversion is a scalar
 * loop that took 14 % of a batch of short clips. The numbers are libsndfile's: it too multiplies
 * by the float 1/32768, an exact power of two (checked on WAV, AIFF, FLAC, CAF, W64, AU, RF64). */
enum { PCM16_CHUNK_SAMPLES = 8192 };
typedef struct frame_reader {
    SNDFILE *file;
    int channels;
    int16_t *pcm16; /* PCM16_CHUNK_SAMPLES samples, or NULL: libsndfile converts */
} frame_reader;

static sf_count_t read_float_frames(const frame_reader *reader, float *frames, sf_count_t wanted)
{
    if (reader->pcm16 == NULL) return sf_readf_float(reader->file, frames, wanted);
    const sf_count_t chunk = PCM16_CHUNK_SAMPLES / reader->channels;
    sf_count_t done = 0;
    while (done < wanted) {
        const sf_count_t asked = wanted - done < chunk ? wanted - done : chunk;
        const sf_count_t got = sf_readf_short(reader->file, reader->pcm16, asked);
        if (got <= 0) break;
        float *out = frames + done * reader->channels;
        const sf_count_t n = got * reader->channels;
        for (sf_count_t i = 0; i < n; i++) out[i] = (float)reader->pcm16[i] * (1.0f / 32768.0f);
        done += got;
        if (got < asked) break;
    }
    return done;
}

/* A block of interleaved frames into the rows at frame `at`: numpy's mean over the channel axis
 * for a mono mix (a float32 sum in channel order, then / count), else each channel's row. */
static void store_frames(const float *frames, int64_t n, int64_t channels, int mono, float *rows,
                         int64_t row_capacity, int64_t at)
{
    if (mono) {
        for (int64_t t = 0; t < n; t++) {
            float sum = frames[t * channels];
            for (int64_t c = 1; c < channels; c++) sum += frames[t * channels + c];
            rows[at + t] = sum / (float)channels;
        }
        return;
    }
    for (int64_t c = 0; c < channels; c++)
        for (int64_t t = 0; t < n; t++) rows[c * row_capacity + at + t] = frames[t * channels + c];
}

/* Samples per read of a file of several channels: a block small enough to be mixed or split
 * while it is in cache, so that the file's interleaved frames are never held beside the result
 * (a stereo file loaded as mono peaked at three times its result). */
enum { SPLIT_BLOCK_SAMPLES = 32768 };

/* Up to max_frames frames (all when < 0) as planar rows (one row, the mono mix, when mono, else
 * one per channel): *n_frames of them, read into *samples, or, with a resampler, given to it
 * block by block as they are read (*samples is then NULL: the resampler holds the result).
 * Without one, the rows are first sized for expected_frames (what the header states, when it
 * does) and one frame more, grown by doubling past it: one allocation and no copy for the files
 * whose header tells the truth. A file of one channel is read straight into the rows; others a
 * block at a time through a small buffer. The first allocation is bounded so that a header
 * claiming more than the file holds cannot ask for gigabytes. A read asks for no more than the
 * room left, and after a short read (the end, or a decoder that returned less than it had) for
 * one frame: libsndfile zero-fills what it cannot fill, and a read of a whole block past the end
 * cost a 256 KiB memset per file. */
static melspec_status read_rows(const frame_reader *reader, int mono, int64_t max_frames,
                                int64_t expected_frames, melspec_row_resampler *resampler,
                                float **samples, int64_t *n_frames, char *message,
                                size_t capacity)
{
    const int64_t channels = reader->channels;
    const int64_t rows = mono ? 1 : channels;
    const int direct = channels == 1; /* the file's layout is the rows' */
    const int64_t split_block = SPLIT_BLOCK_SAMPLES / channels > 0
                                    ? SPLIT_BLOCK_SAMPLES / channels
                                    : 1;
    const int64_t block = direct ? 65536 : split_block;   /* frames */
    const int64_t first_capacity_limit = planar_rows_first_limit(rows); /* frames */
    const int64_t limit = max_frames >= 0 ? max_frames : INT64_MAX;
    int64_t row_capacity = 0, filled = 0, total = 0;
    /* the rows, or the block of them the resampler takes next */
    float *buffer = resampler != NULL ? malloc((size_t)(rows * block) * sizeof *buffer) : NULL;
    float *split = direct ? NULL : malloc((size_t)(block * channels) * sizeof *split);
    melspec_status status = MELSPEC_OK;
    if ((!direct && split == NULL) || (resampler != NULL && buffer == NULL)) {
        free(buffer);
        free(split);
        return fail(MELSPEC_ERROR_OUT_OF_MEMORY, message, capacity, "out of memory");
    }
    if (resampler != NULL) row_capacity = block;
    int last_read_short = 0;
    while (total < limit) {
        if (filled == row_capacity) { /* never with a resampler: it takes every block */
            int64_t grown = 2 * row_capacity;
            if (row_capacity == 0)
                grown = expected_frames > 0 && expected_frames < first_capacity_limit
                            ? expected_frames + 1
                            : block;
            if (grown > limit) grown = limit;
            float *bigger = planar_rows_grow(buffer, rows, row_capacity, grown, filled);
            if (bigger == NULL) {
                status = fail(MELSPEC_ERROR_OUT_OF_MEMORY, message, capacity,
                              "out of memory after %lld frames", (long long)total);
                break;
            }
            buffer = bigger;
            row_capacity = grown;
        }
        const int64_t room = row_capacity - filled;
        int64_t wanted = last_read_short ? 1 : room < block ? room : block;
        if (wanted > limit - total) wanted = limit - total;
        const sf_count_t got = read_float_frames(reader, direct ? buffer + filled : split, wanted);
        if (got <= 0) break;
        if (!direct) store_frames(split, got, channels, mono, buffer, row_capacity, filled);
        if (resampler != NULL) {
            status = melspec_row_resampler_feed(resampler, buffer, row_capacity, got, message,
                                                capacity);
            if (status != MELSPEC_OK) break;
        } else {
            filled += got;
        }
        total += got;
        last_read_short = got < wanted;
    }
    free(split);
    if (status != MELSPEC_OK || resampler != NULL) {
        free(buffer);
        buffer = NULL;
    } else if (total > 0) {
        buffer = planar_rows_fit(buffer, rows, row_capacity, total);
    }
    *samples = buffer;
    *n_frames = total;
    return status;
}

static melspec_status check_options(const melspec_audio_options *options, char *message,
                                    size_t capacity)
{
    if (options->struct_size < sizeof *options)
        return fail(MELSPEC_ERROR_STRUCT_SIZE, message, capacity,
                    "options.struct_size = %u, this library needs %zu (call "
                    "melspec_audio_options_init)", options->struct_size, sizeof *options);
    if (options->mono != 0 && options->mono != 1)
        return fail(MELSPEC_ERROR_INVALID_ARGUMENT, message, capacity,
                    "options.mono = %d: 0 or 1", options->mono);
    if (options->strict != 0 && options->strict != 1)
        return fail(MELSPEC_ERROR_INVALID_ARGUMENT, message, capacity,
                    "options.strict = %d: 0 or 1", options->strict);
    if (!(options->sample_rate >= 0.0) || !isfinite(options->sample_rate))
        return fail(MELSPEC_ERROR_INVALID_ARGUMENT, message, capacity,
                    "options.sample_rate = %g: a positive rate, or 0 for the file's",
                    options->sample_rate);
    if (!(options->offset >= 0.0) || !isfinite(options->offset))
        return fail(MELSPEC_ERROR_INVALID_ARGUMENT, message, capacity,
                    "options.offset = %g s: 0 or more", options->offset);
    if (isnan(options->duration))
        return fail(MELSPEC_ERROR_INVALID_ARGUMENT, message, capacity,
                    "options.duration is NaN: seconds, or < 0 for to the end");
    if (options->res_type == MELSPEC_CQT_RES_POLYPHASE)
        return fail(MELSPEC_ERROR_INVALID_ARGUMENT, message, capacity,
                    "options.res_type = polyphase: not implemented for loading (libsoxr's "
                    "qualities, MELSPEC_CQT_RES_SOXR_*, are)");
    if (melspec_soxr_recipe(options->res_type) < 0)
        return fail(MELSPEC_ERROR_INVALID_ARGUMENT, message, capacity,
                    "options.res_type = %d: one of libsoxr's qualities (MELSPEC_CQT_RES_SOXR_*)",
                    (int)options->res_type);
    return MELSPEC_OK;
}

/* Records how the file was damaged in audio->warning (the first finding only: the later checks
 * follow from it). Returns 1 when the load must stop: options.strict refuses damaged files. */
PRINTF_LIKE(6)
static int note_damage(melspec_audio *audio, const melspec_audio_options *options,
                       melspec_status *status, char *message, size_t capacity,
                       const char *format, ...)
{
    if (audio->warning[0] != '\0') return 0;
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(audio->warning, sizeof audio->warning, format, arguments);
    va_end(arguments);
    if (!options->strict) return 0;
    *status = fail(MELSPEC_ERROR_INVALID_ARGUMENT, message, capacity, "%s", audio->warning);
    return 1;
}

/* The steps after libsndfile opened the file: offset, read, damage, mono, resample. On failure
 * audio holds no samples; its warning stays set when a damaged file was refused (strict). */
static melspec_status decode(SNDFILE *file, const SF_INFO *info,
                             const melspec_audio_options *options, melspec_audio *audio,
                             char *message, size_t capacity)
{
    float *planar = NULL; /* the rows read: mono mix or channels, at the file's rate */
    melspec_row_resampler resampler = {0}; /* or resampled as they are read */
    melspec_status status = MELSPEC_ERROR_INVALID_ARGUMENT;
    long long declared, present;
    if (info->channels < 1 || info->samplerate < 1) {
        fail(status, message, capacity, "no channels or no sample rate in the header");
        goto done;
    }
    if (declared_longer_than_present(file, &declared, &present) &&
        note_damage(audio, options, &status, message, capacity,
                    "truncated: the header declares %lld bytes of audio but the file holds %lld",
                    declared, present))
        goto done;
    const double native_rate = (double)info->samplerate;
    /* soundfile: sf.seek(int(offset * sr_native)), frames = int(duration * sr_native) */
    const int64_t start = (int64_t)(options->offset * native_rate);
    if (start > 0) {
        if (start >= info->frames) {
            fail(status, message, capacity, "offset %g s is past the end of the audio (%.3f s)",
                 options->offset, (double)info->frames / native_rate);
            goto done;
        }
        if (sf_seek(file, start, SEEK_SET) < 0) {
            fail(status, message, capacity, "cannot seek to %g s (libsndfile: %s)",
                 options->offset, sf_strerror(file));
            goto done;
        }
    }
    const int64_t max_frames =
        options->duration >= 0.0 ? (int64_t)(options->duration * native_rate) : -1;
    int64_t n_frames = 0;
    int64_t stated_frames = info->frames != SF_COUNT_MAX ? info->frames - start : 0;
    if (max_frames >= 0 && max_frames < stated_frames) stated_frames = max_frames;
    frame_reader reader = {file, info->channels, NULL};
    if ((info->format & SF_FORMAT_SUBMASK) == SF_FORMAT_PCM_16 &&
        info->channels <= PCM16_CHUNK_SAMPLES)
        reader.pcm16 = malloc(PCM16_CHUNK_SAMPLES * sizeof *reader.pcm16); /* NULL: libsndfile's */
    const int64_t n_out_channels = options->mono ? 1 : info->channels;
    const int resample = options->sample_rate > 0.0 && options->sample_rate != native_rate;
    if (resample)
        status = melspec_row_resampler_open(&resampler, melspec_soxr_recipe(options->res_type),
                                            n_out_channels, native_rate, options->sample_rate,
                                            stated_frames, message, capacity);
    if (!resample || status == MELSPEC_OK)
        status = read_rows(&reader, options->mono, max_frames, stated_frames,
                           resample ? &resampler : NULL, &planar, &n_frames, message, capacity);
    free(reader.pcm16);
    if (status != MELSPEC_OK) goto done;
    status = MELSPEC_ERROR_INVALID_ARGUMENT;
    if (sf_error(file) != SF_ERR_NO_ERROR) {
        if (note_damage(audio, options, &status, message, capacity,
                        "damaged: decoding stopped after %lld frames (%s)", (long long)n_frames,
                        sf_strerror(file)))
            goto done;
        if (n_frames == 0) {
            fail(status, message, capacity, "damaged: no frame decodes (%s)", sf_strerror(file));
            goto done;
        }
    }
    /* FLAC and the PCM containers state their length exactly (MP3's is an estimate): fewer
     * frames than stated means the file was cut short */
    int64_t expected = info->frames - start;
    if (max_frames >= 0 && max_frames < expected) expected = max_frames;
    if ((info->format & SF_FORMAT_TYPEMASK) != SF_FORMAT_MPEG && info->frames != SF_COUNT_MAX &&
        n_frames < expected &&
        note_damage(audio, options, &status, message, capacity,
                    "truncated: %lld of the %lld frames the header states decode, read as they "
                    "are", (long long)n_frames, (long long)expected))
        goto done;
    if (n_frames == 0) {
        status = fail(MELSPEC_ERROR_INPUT_TOO_SHORT, message, capacity, "no audio samples");
        goto done;
    }

    const int64_t n_out = resample ? melspec_audio_resampled_length(n_frames, native_rate,
                                                                    options->sample_rate)
                                   : n_frames;
    if (n_out < 1) {
        status = fail(MELSPEC_ERROR_INPUT_TOO_SHORT, message, capacity,
                      "%lld frames at %g Hz give no sample at %g Hz", (long long)n_frames,
                      native_rate, options->sample_rate);
        goto done;
    }
    if (resample) {
        status = melspec_row_resampler_finish(&resampler, n_out, &audio->samples, message,
                                              capacity);
        if (status != MELSPEC_OK) goto done;
    } else {
        audio->samples = planar;
        planar = NULL;
    }
    audio->n_channels = n_out_channels;
    audio->n_samples = n_out;
    audio->native_rate = native_rate;
    audio->native_frames = n_frames;
    audio->sample_rate = resample ? options->sample_rate : native_rate;
    status = MELSPEC_OK;

done:
    if (status != MELSPEC_OK) {
        free(audio->samples);
        audio->samples = NULL;
        /* the warning stays only where it is the reason (a strict refusal) */
        if (!options->strict) audio->warning[0] = '\0';
    }
    free(planar);
    melspec_row_resampler_close(&resampler);
    return status;
}

/* libsndfile keeps why an open failed in globals that every sf_open writes (sf_errno, and
 * sf_parselog when it fails; libsndfile issue 279, left as it is there), so a reason read after
 * a failed open can be another thread's, or "No Error.". Opens run in parallel under the shared
 * side of open_lock (an Ogg Vorbis open alone is a quarter of its file's decoding); an open that
 * fails is made again alone, under the exclusive side, and its reason copied before any other
 * open can begin. Writers first: a reason is never starved by a stream of opens. */
#if defined(PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP)
static pthread_rwlock_t open_lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
#else
static pthread_rwlock_t open_lock = PTHREAD_RWLOCK_INITIALIZER;
#endif

/* sf_open of path, or sf_open_virtual of memory from its start. Not inlined, so that a report of
 * what libsndfile does inside names its caller (see sndfile_open_shared). */
NOT_INLINED static SNDFILE *sndfile_open(const char *path, memory_file *memory, SF_INFO *info)
{
    SF_VIRTUAL_IO memory_io = {memory_length, memory_seek, memory_read, memory_write,
                               memory_tell};
    memset(info, 0, sizeof *info);
    if (memory == NULL) return sf_open(path, SFM_READ, info);
    memory->position = 0;
    return sf_open_virtual(&memory_io, SFM_READ, info, memory);
}

/* An open in parallel with others. Two that fail write sf_parselog at once, a race on a buffer
 * nobody reads then (reasons are read alone): tests/support/tsan.supp names this function, the
 * frame ThreadSanitizer shows above libsndfile's, so it is never inlined and only races inside
 * this call are suppressed. */
NOT_INLINED static SNDFILE *sndfile_open_shared(const char *path, memory_file *memory,
                                                SF_INFO *info)
{
    pthread_rwlock_rdlock(&open_lock);
    SNDFILE *file = sndfile_open(path, memory, info);
    pthread_rwlock_unlock(&open_lock);
    return file;
}

/* Opens memory (when not NULL) or path with libsndfile and decodes it. */
static melspec_status open_and_decode(const char *path, memory_file *memory,
                                      const melspec_audio_options *options, melspec_audio *audio,
                                      char *message, size_t capacity)
{
    SF_INFO info;
    SNDFILE *file = sndfile_open_shared(path, memory, &info);
    char reason[256] = "";
    if (file == NULL) {
        pthread_rwlock_wrlock(&open_lock);
        file = sndfile_open(path, memory, &info); /* alone: the reason is its own */
        if (file == NULL) snprintf(reason, sizeof reason, "%s", sf_strerror(NULL));
        pthread_rwlock_unlock(&open_lock);
    }
    if (file == NULL) {
        /* the input exists and has bytes (checked before): this libsndfile message is its MP3
         * decoder giving up */
        if (strstr(reason, "not a regular file") != NULL)
            return fail(MELSPEC_ERROR_INVALID_ARGUMENT, message, capacity,
                        "not a readable audio file (no decoder accepts it)");
        return fail(MELSPEC_ERROR_INVALID_ARGUMENT, message, capacity,
                    "not a readable audio file (libsndfile: %s)", reason);
    }
    const melspec_status status = decode(file, &info, options, audio, message, capacity);
    sf_close(file);
    return status;
}

/* The checks every entry point makes before it touches the input. */
static melspec_status check_call(const void *input, const melspec_audio_options *options,
                                 melspec_audio *audio, char *message, size_t capacity)
{
    if (audio != NULL) memset(audio, 0, sizeof *audio);
    if (audio == NULL || input == NULL || options == NULL)
        return fail(MELSPEC_ERROR_NULL_POINTER, message, capacity,
                    "the input, options or audio is NULL");
    return check_options(options, message, capacity);
}

melspec_status melspec_audio_load_memory(const void *bytes, size_t n_bytes,
                                         const melspec_audio_options *options,
                                         melspec_audio *audio, char *message, size_t capacity)
{
    melspec_status status = check_call(bytes, options, audio, message, capacity);
    if (status != MELSPEC_OK) return status;
    if (n_bytes == 0)
        return fail(MELSPEC_ERROR_INVALID_ARGUMENT, message, capacity, "empty input (0 bytes)");
    memory_file memory = {bytes, (sf_count_t)n_bytes, 0};
    return open_and_decode(NULL, &memory, options, audio, message, capacity);
}

melspec_status melspec_audio_load(const char *path, const melspec_audio_options *options,
                                  melspec_audio *audio, char *message, size_t capacity)
{
    melspec_status status = check_call(path, options, audio, message, capacity);
    if (status != MELSPEC_OK) return status;
    struct stat file_status;
    if (stat(path, &file_status) != 0)
        return fail(MELSPEC_ERROR_INVALID_ARGUMENT, message, capacity, "%s", strerror(errno));
    if (S_ISDIR(file_status.st_mode))
        return fail(MELSPEC_ERROR_INVALID_ARGUMENT, message, capacity, "is a directory");
    if (S_ISREG(file_status.st_mode)) {
        if (file_status.st_size == 0)
            return fail(MELSPEC_ERROR_INVALID_ARGUMENT, message, capacity,
                        "empty file (0 bytes)");
        return open_and_decode(path, NULL, options, audio, message, capacity);
    }
    /* a pipe, FIFO or device cannot seek, which libsndfile's decoders need: all of it first */
    const int descriptor = open(path, O_RDONLY);
    if (descriptor < 0)
        return fail(MELSPEC_ERROR_INVALID_ARGUMENT, message, capacity, "%s", strerror(errno));
    unsigned char *bytes = NULL;
    size_t n_bytes = 0;
    status = read_to_end(descriptor, &bytes, &n_bytes, message, capacity);
    close(descriptor);
    if (status != MELSPEC_OK) return status;
    status = melspec_audio_load_memory(bytes, n_bytes, options, audio, message, capacity);
    free(bytes);
    return status;
}
