/* Linux places a new thread on its creator's core and leaves the idle cores to pull it over at
 * the next load balance: measured here, a thread created by a busy main thread waited 0.2-3.7 ms
 * (up to a 4 ms scheduler tick) to start, with the other core idle; in a run of 200 short clips
 * that takes 20 ms on two cores, the second worker started up to a sixth of the run late. New
 * processes are placed at exec, which is why two processes did not wait. So a thread starts
 * with its affinity set to another core, where the kernel puts it at once, and widens it again
 * to the whole process's set as its first act. */
#define _GNU_SOURCE /* pthread_attr_setaffinity_np, sched_getcpu */
#include "threads.h"

#include <sched.h>
#include <stdlib.h>

typedef struct placed_start {
    void *(*function)(void *);
    void *argument;
    cpu_set_t allowed; /* the process's set, restored once the thread runs */
} placed_start;

static void *run_placed(void *argument)
{
    placed_start start = *(placed_start *)argument;
    free(argument);
    pthread_setaffinity_np(pthread_self(), sizeof start.allowed, &start.allowed);
    return start.function(start.argument);
}

/* The index-th core of `allowed` other than `own`, round robin; -1 when there is none. */
static int other_core(const cpu_set_t *allowed, int own, size_t index)
{
    const int others = CPU_COUNT(allowed) - (own >= 0 && CPU_ISSET(own, allowed) ? 1 : 0);
    if (others <= 0) return -1;
    size_t wanted = index % (size_t)others;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, allowed) || cpu == own) continue;
        if (wanted == 0) return cpu;
        wanted--;
    }
    return -1;
}

int cli_thread_start(pthread_t *thread, void *(*function)(void *), void *argument, size_t index)
{
    placed_start *start = malloc(sizeof *start);
    int core = -1;
    if (start != NULL && sched_getaffinity(0, sizeof start->allowed, &start->allowed) == 0)
        core = other_core(&start->allowed, sched_getcpu(), index);
    if (core >= 0) {
        start->function = function;
        start->argument = argument;
        pthread_attr_t attributes;
        cpu_set_t first;
        CPU_ZERO(&first);
        CPU_SET(core, &first);
        if (pthread_attr_init(&attributes) == 0) {
            const int placed =
                pthread_attr_setaffinity_np(&attributes, sizeof first, &first) == 0 &&
                pthread_create(thread, &attributes, run_placed, start) == 0;
            pthread_attr_destroy(&attributes);
            if (placed) return 0;
        }
    }
    free(start); /* no other core, or placing failed: where the kernel puts it */
    return pthread_create(thread, NULL, function, argument);
}
