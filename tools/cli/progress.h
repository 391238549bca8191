/* A one-line progress bar on stderr, drawn only when stderr is a terminal. */
#ifndef MELSPEC_CLI_PROGRESS_H
#define MELSPEC_CLI_PROGRESS_H

#include <stddef.h>

typedef struct cli_progress {
    int enabled;
    int drawn; /* a bar is on the screen */
    size_t total_files;
    double start_seconds;
    double last_draw_seconds;
} cli_progress;

/* Enabled when wanted and stderr is a terminal. */
void cli_progress_start(cli_progress *progress, int wanted, size_t total_files);
/* Redraws (at most ten times a second, and always at the end) with files done so far and the
 * seconds of audio they held. */
void cli_progress_update(cli_progress *progress, size_t files_done, double audio_seconds);
/* Erases the bar so that a message can be printed on a clean line; the next update redraws. */
void cli_progress_clear(cli_progress *progress);

/* Seconds on CLOCK_MONOTONIC. */
double cli_now_seconds(void);

#endif
