/* Starting the command's threads where they can run at once. */
#ifndef MELSPEC_CLI_THREADS_H
#define MELSPEC_CLI_THREADS_H

#include <pthread.h>
#include <stddef.h>

/* pthread_create, with the thread started on another core than the calling thread's (the
 * index-th of the others, round robin) and free to move anywhere the process may run once it
 * runs. Returns pthread_create's result. */
int cli_thread_start(pthread_t *thread, void *(*function)(void *), void *argument, size_t index);

#endif
