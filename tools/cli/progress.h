/* A one-line progress bar on stderr, drawn only when stderr is a terminal. */
#ifndef MELSPEC_CLI_PROGRESS_H
#define MELSPEC_CLI_PROGRESS_H

#include <stddef.h>

#include <stdio.h>

typedef struct cli_progress {
    FILE *stream; /* where the bar goes (the command's message stream) */
    int enabled;
    int drawn; /* a bar is on the screen */
    size_t total_files;
    double start_seconds;
    double last_draw_seconds;
} cli_progress;

/* Enabled when wanted and stream is a terminal. */
void cli_progress_start(cli_progress *progress, FILE *stream, int wanted, size_t total_files);

/* "12.3 s", "4.5 min" or "2.31 h": audio durations at the scale they have. */
void cli_format_duration(double seconds, char *text, size_t capacity);
/* Redraws (at most ten times a second, and always at the end) with files done so far and the
 * seconds of audio they held. */
void cli_progress_update(cli_progress *progress, size_t files_done, double audio_seconds);
/* Erases the bar so that a message can be printed on a clean line; the next update redraws. */
void cli_progress_clear(cli_progress *progress);

/* Seconds on CLOCK_MONOTONIC. */
double cli_now_seconds(void);

#endif
