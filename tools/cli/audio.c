/* The command's audio in: libmelspec_audio (include/melspec_audio.h) decodes, with librosa.load's
 * numbers and its rule for damaged files; this file adds what only a command may do: stdin, and
 * silencing descriptor 2 around MP3 decodes. Then the example signal the command can write. */
#define _GNU_SOURCE /* dladdr; dup, dup2, strcasecmp */
#include "audio.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
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

#include "message.h"

/* ---- the decoding libraries, loaded on first use ---------------------------------------------- */

/* libmelspec_audio, and through it libsndfile with the eight codec libraries it brings (FLAC,
 * Vorbis, Opus, MP3, ...), is loaded the first time audio is read or written, not at the
 * command's start: mapping and relocating them took 0.35 ms of every start, which --jobs cannot
 * share. With --jobs above 1 the main thread loads them before it starts the other workers
 * (cli_audio_preload; see early_workers_start in main.c).
 * MELSPEC_CLI_AUDIO_LIBRARY is its file name; it is installed (and built) beside libmelspec. */
typedef struct audio_library {
    void (*options_init)(melspec_audio_options *options);
    melspec_status (*load)(const char *path, const melspec_audio_options *options,
                           melspec_audio *audio, char *message, size_t message_capacity);
    melspec_status (*load_memory)(const void *bytes, size_t n_bytes,
                                  const melspec_audio_options *options, melspec_audio *audio,
                                  char *message, size_t message_capacity);
    void (*free)(melspec_audio *audio);
    const char *(*sndfile_version)(void);
    int (*format_check)(const SF_INFO *info);
    SNDFILE *(*open)(const char *path, int mode, SF_INFO *info);
    sf_count_t (*writef_float)(SNDFILE *file, const float *samples, sf_count_t frames);
    int (*close)(SNDFILE *file);
    const char *(*error)(SNDFILE *file);
} audio_library;

static audio_library library;
static char library_error[512]; /* why it did not load ("" when it did) */
static pthread_once_t library_once = PTHREAD_ONCE_INIT;

static int resolve(void *handle, const char *name, void *function, size_t size)
{
    void *symbol = dlsym(handle, name);
    memcpy(function, &symbol, size); /* POSIX's void * to function */
    if (symbol == NULL)
        snprintf(library_error, sizeof library_error, "%s has no %s", MELSPEC_CLI_AUDIO_LIBRARY,
                 name);
    return symbol != NULL;
}

#define RESOLVE(handle, name, field) resolve(handle, name, &library.field, sizeof library.field)

/* By its path beside libmelspec (dladdr of a libmelspec function), not by the command's RUNPATH:
 * sanitizer runtimes intercept dlopen, and a search from inside them does not see it. */
static void *open_library(void)
{
    Dl_info core;
    const char *slash;
    const char *(*in_core)(void) = melspec_version_string;
    void *address;
    memcpy(&address, &in_core, sizeof address); /* POSIX's function to void * */
    if (dladdr(address, &core) != 0 && core.dli_fname != NULL &&
        (slash = strrchr(core.dli_fname, '/')) != NULL) {
        char path[PATH_MAX];
        const int n = snprintf(path, sizeof path, "%.*s/%s", (int)(slash - core.dli_fname),
                               core.dli_fname, MELSPEC_CLI_AUDIO_LIBRARY);
        if (n > 0 && (size_t)n < sizeof path) {
            void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
            if (handle != NULL) return handle;
        }
    }
    return dlopen(MELSPEC_CLI_AUDIO_LIBRARY, RTLD_NOW | RTLD_LOCAL); /* the loader's search */
}

static void load_library(void)
{
    void *handle = open_library();
    if (handle == NULL) {
        snprintf(library_error, sizeof library_error, "cannot load %s: %.400s",
                 MELSPEC_CLI_AUDIO_LIBRARY, dlerror());
        return;
    }
    /* libsndfile's own functions through the same handle: it is libmelspec_audio's dependency */
    if (!(RESOLVE(handle, "melspec_audio_options_init", options_init) &&
          RESOLVE(handle, "melspec_audio_load", load) &&
          RESOLVE(handle, "melspec_audio_load_memory", load_memory) &&
          RESOLVE(handle, "melspec_audio_free", free) &&
          RESOLVE(handle, "sf_version_string", sndfile_version) &&
          RESOLVE(handle, "sf_format_check", format_check) && RESOLVE(handle, "sf_open", open) &&
          RESOLVE(handle, "sf_writef_float", writef_float) && RESOLVE(handle, "sf_close", close) &&
          RESOLVE(handle, "sf_strerror", error))) {
        memset(&library, 0, sizeof library);
        dlclose(handle);
    }
}

/* The loaded library, or NULL with the reason in why. */
static const audio_library *audio_library_get(char *why, size_t why_capacity)
{
    pthread_once(&library_once, load_library);
    if (library_error[0] == '\0') return &library;
    cli_fail(why, why_capacity, "%s", library_error);
    return NULL;
}

void cli_audio_preload(void) { pthread_once(&library_once, load_library); }

const char *cli_audio_sndfile_version(void)
{
    char why[8];
    const audio_library *sound = audio_library_get(why, sizeof why);
    return sound != NULL ? sound->sndfile_version() : library_error;
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

/* Regular files up to this size are read whole into memory (see cli_audio_load). */
#define WHOLE_FILE_LIMIT ((off_t)64 << 20)

/* All of a descriptor, into memory: size_hint bytes (a regular file's size; 0 when unknown, as
 * for stdin or a pipe) take one read call, and one more that finds the end. */
static int read_all(int descriptor, size_t size_hint, unsigned char **bytes, size_t *n_bytes,
                    char *why, size_t why_capacity)
{
    size_t capacity = 0, size = 0;
    unsigned char *buffer = NULL;
    for (;;) {
        if (size == capacity) {
            capacity = capacity ? 2 * capacity : size_hint > 0 ? size_hint + 1 : (size_t)1 << 20;
            unsigned char *grown = realloc(buffer, capacity);
            if (grown == NULL) {
                free(buffer);
                return cli_fail(why, why_capacity, "out of memory reading the input");
            }
            buffer = grown;
        }
        const ssize_t got = read(descriptor, buffer + size, capacity - size);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            free(buffer);
            return cli_fail(why, why_capacity, "cannot read: %s", strerror(errno));
        }
        if (got == 0) break;
        size += (size_t)got;
    }
    *bytes = buffer;
    *n_bytes = size;
    return 0;
}

int cli_audio_load(const char *path, const cli_load_options *options, cli_audio *audio,
                   char *why, size_t why_capacity)
{
    memset(audio, 0, sizeof *audio);
    const audio_library *sound = audio_library_get(why, why_capacity);
    if (sound == NULL) return -1;
    melspec_audio_options load;
    sound->options_init(&load);
    load.mono = options->mono;
    load.sample_rate = options->target_rate;
    load.res_type = options->res_type;
    load.offset = options->offset;
    load.duration = options->duration;
    load.strict = options->strict;

    /* Files are read into memory here and decoded from there: stdin and others that cannot
     * seek because they must be, regular files up to WHOLE_FILE_LIMIT because it is one read
     * call where libsndfile reading the file itself makes dozens (its header parser reads a few
     * bytes at a time, with a seek between): per-file system calls are what keeps a batch of
     * short clips from scaling with --jobs. Larger files, and any the command cannot open or
     * stat (the library then says why, in its words), are left to the library. */
    const int from_stdin = strcmp(path, "-") == 0;
    unsigned char *bytes = NULL, head[4] = {0};
    size_t n_bytes = 0, head_length = 0;
    int in_memory = 0;
    const int descriptor = from_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    struct stat status;
    if (descriptor >= 0 && fstat(descriptor, &status) == 0) {
        const int regular = S_ISREG(status.st_mode);
        in_memory = from_stdin || (!regular && !S_ISDIR(status.st_mode)) ||
                    (regular && status.st_size > 0 && status.st_size <= WHOLE_FILE_LIMIT);
        if (in_memory) {
            const int read_result = read_all(descriptor, regular ? (size_t)status.st_size : 0,
                                             &bytes, &n_bytes, why, why_capacity);
            if (!from_stdin) close(descriptor);
            if (read_result != 0) return -1;
            head_length = n_bytes < sizeof head ? n_bytes : sizeof head;
            memcpy(head, bytes, head_length);
        } else if (regular) {
            const ssize_t got = read(descriptor, head, sizeof head); /* MP3 or not */
            head_length = got > 0 ? (size_t)got : 0;
        }
    }
    if (descriptor >= 0 && !from_stdin && !in_memory) close(descriptor);
    if (from_stdin && !in_memory) return cli_fail(why, why_capacity, "%s", strerror(errno));
    const int muted = looks_like_mpeg(head, head_length) ? mute_stderr() : 0;
    const melspec_status loaded =
        in_memory ? sound->load_memory(bytes, n_bytes, &load, audio, why, why_capacity)
                  : sound->load(path, &load, audio, why, why_capacity);
    unmute_stderr(muted);
    free(bytes);
    if (loaded == MELSPEC_OK) return 0;
    if (audio->warning[0] != '\0') /* damaged, and refused for it alone */
        cli_fail(why, why_capacity, "%s (--strict)", audio->warning);
    sound->free(audio);
    return -1;
}

void cli_audio_free(cli_audio *audio)
{
    if (audio == NULL) return;
    if (library.free != NULL) library.free(audio); /* set once loaded: cli_audio_load ran */
    else memset(audio, 0, sizeof *audio);
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
    const audio_library *sound = audio_library_get(why, why_capacity);
    if (sound == NULL) return -1;
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = sample_rate;
    info.channels = 1;
    info.format = format;
    if (!sound->format_check(&info))
        return cli_fail(why, why_capacity, "this libsndfile cannot write .%s", extension);
    const int64_t n = 3 * (int64_t)sample_rate;
    float *samples = malloc((size_t)n * sizeof *samples);
    if (samples == NULL) return cli_fail(why, why_capacity, "out of memory");
    cli_example_signal(samples, n, (double)sample_rate);
    SNDFILE *file = sound->open(path, SFM_WRITE, &info);
    if (file == NULL) {
        free(samples);
        return cli_fail(why, why_capacity, "cannot write: %s", sound->error(NULL));
    }
    const sf_count_t written = sound->writef_float(file, samples, n);
    free(samples);
    const int close_error = sound->close(file);
    if (written != n || close_error != 0)
        return cli_fail(why, why_capacity, "write failed after %lld frames", (long long)written);
    return 0;
}
