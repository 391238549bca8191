/* Inputs (files and directories, walked recursively) and the output paths that mirror them. */
#ifndef MELSPEC_CLI_FILES_H
#define MELSPEC_CLI_FILES_H

#include <stddef.h>

typedef struct cli_job {
    char *input;    /* the path to read */
    char *relative; /* its path under the input directory it came from, or its file name */
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

/* directory/relative with relative's extension replaced by extension; NULL when out of memory. */
char *cli_output_path(const char *directory, const char *relative, const char *extension);

/* Creates the directories above path (mkdir -p of its parent). */
int cli_make_parent_directories(const char *path, char *why, size_t why_capacity);

/* 1 when path exists and is a directory. */
int cli_is_directory(const char *path);

#endif
