#define _DEFAULT_SOURCE /* scandir, alphasort, lstat (POSIX.1-2008) */
#include "files.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const char *const audio_extensions[] = {
    "wav", "wave", "flac", "ogg", "oga", "opus", "mp3", "mp2", "mp1", "aif", "aiff", "aifc",
    "au", "snd", "caf", "w64", "rf64", "voc", "htk", "sd2", "paf", "pvf", "xi", "iff", "svx",
    "sds", "avr", "wve", "mpc", "nist", "sph"};

int cli_is_audio_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot == NULL || dot == name) return 0;
    for (size_t i = 0; i < sizeof audio_extensions / sizeof audio_extensions[0]; i++)
        if (strcasecmp(dot + 1, audio_extensions[i]) == 0) return 1;
    return 0;
}

int cli_is_directory(const char *path)
{
    struct stat status;
    return stat(path, &status) == 0 && S_ISDIR(status.st_mode);
}

static char *join(const char *a, const char *b)
{
    const size_t la = strlen(a), lb = strlen(b);
    const int slash = la > 0 && a[la - 1] != '/';
    char *path = malloc(la + (size_t)slash + lb + 1);
    if (path == NULL) return NULL;
    memcpy(path, a, la);
    if (slash) path[la] = '/';
    memcpy(path + la + (size_t)slash, b, lb + 1);
    return path;
}

static int push(cli_job_list *list, char *input, char *relative)
{
    if (input == NULL || relative == NULL) goto fail;
    if (list->count == list->capacity) {
        const size_t grown = list->capacity == 0 ? 64 : 2 * list->capacity;
        cli_job *jobs = realloc(list->jobs, grown * sizeof *jobs);
        if (jobs == NULL) goto fail;
        list->jobs = jobs;
        list->capacity = grown;
    }
    list->jobs[list->count].input = input;
    list->jobs[list->count].relative = relative;
    list->count++;
    return 0;
fail:
    free(input);
    free(relative);
    return -1;
}

/* Walks directory (whose path under the root is prefix, "" at the root). */
static int walk(const char *directory, const char *prefix, cli_job_list *list, char *why,
                size_t why_capacity)
{
    struct dirent **entries = NULL;
    const int n = scandir(directory, &entries, NULL, alphasort);
    if (n < 0) {
        snprintf(why, why_capacity, "%s: cannot read the directory: %s", directory,
                 strerror(errno));
        return -1;
    }
    int result = 0;
    for (int i = 0; i < n; i++) {
        const char *name = entries[i]->d_name;
        if (result != 0 || name[0] == '.') continue; /* ".", "..", hidden files */
        char *path = join(directory, name);
        char *relative = prefix[0] ? join(prefix, name) : strdup(name);
        struct stat status;
        if (path == NULL || relative == NULL) {
            snprintf(why, why_capacity, "out of memory while listing %s", directory);
            result = -1;
        } else if (lstat(path, &status) != 0) {
            /* Vanished while listing: nothing to process. */
        } else if (S_ISDIR(status.st_mode)) {
            /* lstat: a symbolic link to a directory is not followed (no cycles). */
            result = walk(path, relative, list, why, why_capacity);
        } else if (cli_is_audio_name(name)) {
            if (push(list, path, relative) != 0) {
                snprintf(why, why_capacity, "out of memory while listing %s", directory);
                result = -1;
            }
            path = relative = NULL; /* owned by the list now */
        }
        free(path);
        free(relative);
    }
    for (int i = 0; i < n; i++) free(entries[i]);
    free(entries);
    return result;
}

int cli_collect(const char *input, cli_job_list *list, char *why, size_t why_capacity)
{
    if (cli_is_directory(input)) return walk(input, "", list, why, why_capacity);
    const char *slash = strrchr(input, '/');
    if (push(list, strdup(input), strdup(slash ? slash + 1 : input)) != 0) {
        snprintf(why, why_capacity, "out of memory");
        return -1;
    }
    return 0;
}

void cli_job_list_free(cli_job_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->jobs[i].input);
        free(list->jobs[i].relative);
    }
    free(list->jobs);
    memset(list, 0, sizeof *list);
}

char *cli_output_path(const char *directory, const char *relative, const char *extension)
{
    const char *slash = strrchr(relative, '/');
    const char *dot = strrchr(relative, '.');
    const size_t stem = dot != NULL && dot > (slash ? slash + 1 : relative)
                            ? (size_t)(dot - relative)
                            : strlen(relative);
    char *name = malloc(stem + 1 + strlen(extension) + 1);
    if (name == NULL) return NULL;
    memcpy(name, relative, stem);
    name[stem] = '.';
    strcpy(name + stem + 1, extension);
    char *path = join(directory, name);
    free(name);
    return path;
}

int cli_make_parent_directories(const char *path, char *why, size_t why_capacity)
{
    char *copy = strdup(path);
    if (copy == NULL) {
        snprintf(why, why_capacity, "out of memory");
        return -1;
    }
    int result = 0;
    for (char *p = copy + 1; *p != '\0' && result == 0; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(copy, 0777) != 0 && errno != EEXIST) {
            snprintf(why, why_capacity, "cannot create directory %s: %s", copy, strerror(errno));
            result = -1;
        } else if (!cli_is_directory(copy)) {
            snprintf(why, why_capacity, "%s exists and is not a directory", copy);
            result = -1;
        }
        *p = '/';
    }
    free(copy);
    return result;
}
