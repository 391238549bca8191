/* Inputs (files and directories, walked recursively) and the output paths that mirror them. */
#ifndef MELSPEC_CLI_FILES_H
#define MELSPEC_CLI_FILES_H

#include <stddef.h>

#include <stdio.h>

/* One output file of an input. */
typedef struct cli_target {
    char *path;      /* "-" for stdout */
    unsigned format; /* CLI_FORMAT_* */
} cli_target;

typedef struct cli_job {
    char *input;    /* the path to read ("-": stdin) */
    char *relative; /* its path under the input directory it came from, or its file name */
    long long bytes; /* its size when listed (0 when unknown: stdin, a pipe), for scheduling */
    cli_target *targets;
    size_t n_targets;
} cli_job;

typedef struct cli_job_list {
    cli_job *jobs;
    size_t count;
    size_t capacity;
} cli_job_list;

/* Adds one command-line input: a file as it is (whatever its name, so that a wrong file is
 * reported), a directory as every audio file below it (by extension, hidden entries skipped,
 * sorted by name). Returns -1 with why on failure (out of memory, unreadable directory). */
int cli_collect(const char *input, cli_job_list *list, char *why, size_t why_capacity);
void cli_job_list_free(cli_job_list *list);

/* 1 when the name ends in an extension libsndfile reads (wav, flac, ogg, opus, mp3, ...). */
int cli_is_audio_name(const char *name);

/* directory/relative with relative's extension replaced by extension (keep_extension: with
 * extension appended, "x.wav" -> "x.wav.npy"); NULL when out of memory. */
char *cli_output_path(const char *directory, const char *relative, const char *extension,
                      int keep_extension);

/* Gives every job one target per format under directory, mirroring the input tree. The name
 * rule: the input's extension is replaced ("a/x.wav" -> "a/x.npy"), except for inputs that share
 * a directory and a stem with another input ("y.wav", "y.flac"), which keep theirs
 * ("y.wav.npy", "y.flac.npy"). extension_of(format) names each format's extension. */
int cli_plan_directory_targets(cli_job_list *list, const char *directory, unsigned formats,
                               const char *(*extension_of)(unsigned), char *why,
                               size_t why_capacity);

/* Gives every job (there must be one) the given targets. */
int cli_set_targets(cli_job_list *list, const cli_target *targets, size_t n_targets, char *why,
                    size_t why_capacity);

/* -1 with the two inputs named in why when two targets are the same path (or an input). */
int cli_find_collision(const cli_job_list *list, char *why, size_t why_capacity);

/* Makes sure files can be created in directory before any work: creates it (mkdir -p) when
 * missing, then creates and removes a probe file in it. */
int cli_check_output_directory(const char *directory, char *why, size_t why_capacity);

/* The directory a file path is in ("." when none); free it. */
char *cli_parent_directory(const char *path);

/* Atomic output: the data goes to a file without a name in the target's directory (O_TMPFILE),
 * or where that is not possible to a hidden temporary there, and gets the target's name only
 * when complete, so a target either does not exist or is whole. */
typedef struct cli_atomic_file {
    FILE *stream;
    const char *target;
    char *parent;      /* the target's directory */
    char *temporary;   /* the named temporary (NULL: stdout, or an unnamed file) */
    int unnamed;       /* 1: the stream's file has no name yet */
    int replace;       /* 1: a file already under the target's name is replaced */
    int to_stdout;
    char *buffer;      /* the stream's buffer (NULL: stdio's own) */
} cli_atomic_file;
int cli_atomic_open(cli_atomic_file *file, const char *target, int replace, char *why,
                    size_t why_capacity);
/* Flushes and checks every write, then names the file (or renames the temporary) into place;
 * a file under that name is replaced only with replace (otherwise an error: the planning saw
 * none, so someone made it since). On failure nothing is left under either name. */
int cli_atomic_commit(cli_atomic_file *file, char *why, size_t why_capacity);
void cli_atomic_discard(cli_atomic_file *file);

/* 1 when path exists (any kind of file). */
int cli_exists(const char *path);
/* Creates the directories above path (mkdir -p of its parent). */
int cli_make_parent_directories(const char *path, char *why, size_t why_capacity);

/* 1 when path exists and is a directory. */
int cli_is_directory(const char *path);

#endif
