#define _POSIX_C_SOURCE 200809L /* clock_gettime, isatty, fileno */
#include "progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

double cli_now_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}

void cli_format_duration(double seconds, char *text, size_t capacity)
{
    if (seconds < 60.0) {
        snprintf(text, capacity, "%.1f s", seconds);
    } else if (seconds < 3600.0) {
        snprintf(text, capacity, "%.1f min", seconds / 60.0);
    } else {
        snprintf(text, capacity, "%.2f h", seconds / 3600.0);
    }
}

void cli_progress_start(cli_progress *p, FILE *stream, int wanted, size_t total_files)
{
    p->stream = stream;
    p->enabled = wanted && isatty(fileno(stream));
    p->drawn = 0;
    p->total_files = total_files;
    p->start_seconds = cli_now_seconds();
    p->last_draw_seconds = -1.0;
}

void cli_progress_update(cli_progress *p, size_t files_done, double audio_seconds)
{
    if (!p->enabled) return;
    const double now = cli_now_seconds();
    if (files_done < p->total_files && now - p->last_draw_seconds < 0.1) return;
    p->last_draw_seconds = now;
    const double elapsed = now - p->start_seconds;
    const double fraction = p->total_files ? (double)files_done / (double)p->total_files : 1.0;
    const int width = 24;
    const int filled = (int)(fraction * width + 0.5);
    char bar[32];
    for (int i = 0; i < width; i++) bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    const double speed = elapsed > 0.0 ? audio_seconds / elapsed : 0.0;
    char duration[32];
    cli_format_duration(audio_seconds, duration, sizeof duration);
    fprintf(p->stream, "\r\033[K[%s] %zu/%zu files  %s audio  %.0fx real time", bar, files_done,
            p->total_files, duration, speed);
    if (files_done > 0 && files_done < p->total_files) {
        const double remaining = elapsed / (double)files_done * (double)(p->total_files - files_done);
        fprintf(p->stream, "  ETA %d:%02d", (int)(remaining / 60.0), (int)remaining % 60);
    }
    fflush(p->stream);
    p->drawn = 1;
}

void cli_progress_clear(cli_progress *p)
{
    if (!p->enabled || !p->drawn) return;
    fputs("\r\033[K", p->stream);
    fflush(p->stream);
    p->drawn = 0;
}
