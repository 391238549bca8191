#define _GNU_SOURCE /* O_TMPFILE; scandir, alphasort, lstat, mkstemp (POSIX.1-2008) */
#include "files.h"

#include "message.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

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

static int push(cli_job_list *list, char *input, char *relative, long long bytes)
{
    if (input == NULL || relative == NULL) goto fail;
    if (list->count == list->capacity) {
        const size_t grown = list->capacity == 0 ? 64 : 2 * list->capacity;
        cli_job *jobs = realloc(list->jobs, grown * sizeof *jobs);
        if (jobs == NULL) goto fail;
        list->jobs = jobs;
        list->capacity = grown;
    }
    memset(&list->jobs[list->count], 0, sizeof list->jobs[list->count]);
    list->jobs[list->count].input = input;
    list->jobs[list->count].relative = relative;
    list->jobs[list->count].bytes = bytes;
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
            const long long bytes = S_ISREG(status.st_mode) ? (long long)status.st_size : 0;
            if (push(list, path, relative, bytes) != 0) {
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
    struct stat status;
    const long long bytes =
        stat(input, &status) == 0 && S_ISREG(status.st_mode) ? (long long)status.st_size : 0;
    if (push(list, strdup(input), strdup(slash ? slash + 1 : input), bytes) != 0) {
        snprintf(why, why_capacity, "out of memory");
        return -1;
    }
    return 0;
}

static void free_targets(cli_job *job)
{
    for (size_t t = 0; t < job->n_targets; t++) free(job->targets[t].path);
    free(job->targets);
    job->targets = NULL;
    job->n_targets = 0;
}

void cli_job_list_free(cli_job_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->jobs[i].input);
        free(list->jobs[i].relative);
        free_targets(&list->jobs[i]);
    }
    free(list->jobs);
    memset(list, 0, sizeof *list);
}

/* Length of relative without its extension. */
static size_t stem_length(const char *relative)
{
    const char *slash = strrchr(relative, '/');
    const char *dot = strrchr(relative, '.');
    return dot != NULL && dot > (slash ? slash + 1 : relative) ? (size_t)(dot - relative)
                                                               : strlen(relative);
}

char *cli_output_path(const char *directory, const char *relative, const char *extension,
                      int keep_extension)
{
    const size_t stem = keep_extension ? strlen(relative) : stem_length(relative);
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

/* ---- output targets ------------------------------------------------------------------------ */

static const cli_job_list *sort_list; /* qsort has no context argument; set around each sort */

static int compare_stems(const void *a, const void *b)
{
    const cli_job *x = &sort_list->jobs[*(const size_t *)a];
    const cli_job *y = &sort_list->jobs[*(const size_t *)b];
    const size_t lx = stem_length(x->relative), ly = stem_length(y->relative);
    const int c = strncmp(x->relative, y->relative, lx < ly ? lx : ly);
    return c != 0 ? c : (lx > ly) - (lx < ly);
}

int cli_plan_directory_targets(cli_job_list *list, const char *directory, unsigned formats,
                               const char *(*extension_of)(unsigned), char *why,
                               size_t why_capacity)
{
    size_t *order = malloc((list->count + 1) * sizeof *order);
    unsigned char *keep = calloc(list->count + 1, 1);
    size_t n_formats = 0;
    for (unsigned f = 1; f != 0 && f <= formats; f <<= 1) n_formats += (formats & f) != 0;
    int result = -1;
    if (order == NULL || keep == NULL) goto out_of_memory;
    for (size_t i = 0; i < list->count; i++) order[i] = i;
    sort_list = list;
    qsort(order, list->count, sizeof *order, compare_stems);
    sort_list = NULL;
    for (size_t i = 0; i + 1 < list->count; i++) {
        const cli_job *a = &list->jobs[order[i]], *b = &list->jobs[order[i + 1]];
        const size_t la = stem_length(a->relative);
        if (la == stem_length(b->relative) && strncmp(a->relative, b->relative, la) == 0)
            keep[order[i]] = keep[order[i + 1]] = 1;
    }
    for (size_t i = 0; i < list->count; i++) {
        cli_job *job = &list->jobs[i];
        free_targets(job);
        job->targets = calloc(n_formats, sizeof *job->targets);
        if (job->targets == NULL) goto out_of_memory;
        for (unsigned f = 1; f != 0 && f <= formats; f <<= 1) {
            if (!(formats & f)) continue;
            cli_target *target = &job->targets[job->n_targets++];
            target->format = f;
            target->path = cli_output_path(directory, job->relative, extension_of(f), keep[i]);
            if (target->path == NULL) goto out_of_memory;
        }
    }
    result = 0;
    goto done;
out_of_memory:
    snprintf(why, why_capacity, "out of memory");
done:
    free(order);
    free(keep);
    return result;
}

int cli_set_targets(cli_job_list *list, const cli_target *targets, size_t n_targets, char *why,
                    size_t why_capacity)
{
    for (size_t i = 0; i < list->count; i++) {
        cli_job *job = &list->jobs[i];
        free_targets(job);
        job->targets = calloc(n_targets, sizeof *job->targets);
        if (job->targets == NULL) goto out_of_memory;
        for (size_t t = 0; t < n_targets; t++) {
            job->targets[t].format = targets[t].format;
            job->targets[t].path = strdup(targets[t].path);
            job->n_targets++;
            if (job->targets[t].path == NULL) goto out_of_memory;
        }
    }
    return 0;
out_of_memory:
    snprintf(why, why_capacity, "out of memory");
    return -1;
}

typedef struct named_path {
    const char *path;
    const char *input;
    int is_input;
} named_path;

static int compare_paths(const void *a, const void *b)
{
    return strcmp(((const named_path *)a)->path, ((const named_path *)b)->path);
}

int cli_find_collision(const cli_job_list *list, char *why, size_t why_capacity)
{
    size_t n = list->count;
    for (size_t i = 0; i < list->count; i++) n += list->jobs[i].n_targets;
    named_path *paths = malloc((n + 1) * sizeof *paths);
    if (paths == NULL) return cli_fail_out_of_memory(why, why_capacity);
    size_t k = 0;
    for (size_t i = 0; i < list->count; i++) {
        const cli_job *job = &list->jobs[i];
        paths[k++] = (named_path){job->input, job->input, 1};
        for (size_t t = 0; t < job->n_targets; t++)
            if (strcmp(job->targets[t].path, "-") != 0)
                paths[k++] = (named_path){job->targets[t].path, job->input, 0};
    }
    qsort(paths, k, sizeof *paths, compare_paths);
    int result = 0;
    for (size_t i = 0; i + 1 < k && result == 0; i++) {
        const named_path *a = &paths[i], *b = &paths[i + 1];
        if (strcmp(a->path, b->path) != 0 || (a->is_input && b->is_input)) continue;
        if (a->is_input || b->is_input) {
            snprintf(why, why_capacity, "the output %s would overwrite the input %s", a->path,
                     a->path);
        } else if (strcmp(a->input, b->input) == 0) {
            snprintf(why, why_capacity, "%s is written twice for %s", a->path, a->input);
        } else {
            snprintf(why, why_capacity,
                     "%s and %s would both be written to %s (name the inputs' directory, or run "
                     "them with different -o)",
                     a->input, b->input, a->path);
        }
        result = -1;
    }
    free(paths);
    return result;
}

int cli_exists(const char *path)
{
    struct stat status;
    return lstat(path, &status) == 0;
}

char *cli_parent_directory(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) return strdup(".");
    if (slash == path) return strdup("/");
    char *parent = malloc((size_t)(slash - path) + 1);
    if (parent == NULL) return NULL;
    memcpy(parent, path, (size_t)(slash - path));
    parent[slash - path] = '\0';
    return parent;
}

int cli_check_output_directory(const char *directory, char *why, size_t why_capacity)
{
    char *probe_path = join(directory, ".melspec-probe-XXXXXX");
    if (probe_path == NULL) return cli_fail_out_of_memory(why, why_capacity);
    int result = cli_make_parent_directories(probe_path, why, why_capacity);
    if (result == 0) {
        const int probe = mkstemp(probe_path);
        if (probe < 0) {
            snprintf(why, why_capacity, "cannot write into %s: %s", directory, strerror(errno));
            result = -1;
        } else {
            close(probe);
            unlink(probe_path);
        }
    }
    free(probe_path);
    return result;
}

/* A temporary's name: hidden, in the target's directory (rename cannot cross filesystems), and
 * unique to this process and writer (the process id and a counter), so that two runs writing
 * into one directory never share one. The name is taken with O_EXCL (or linkat, which does not
 * replace either); a name that exists is skipped. */
static atomic_uint temporary_counter;

static void temporary_name(char *temporary, size_t length, const char *parent, const char *name)
{
    snprintf(temporary, length, "%s/.%s.part-%ld-%u", parent, name, (long)getpid(),
             atomic_fetch_add(&temporary_counter, 1u));
}

static int open_temporary(char *temporary, size_t length, const char *parent, const char *name)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        temporary_name(temporary, length, parent, name);
        /* 0666 less the umask, as any new file (the kernel applies the umask) */
        const int descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (descriptor >= 0 || errno != EEXIST) return descriptor;
    }
    return -1;
}

/* Unnamed outputs. Where the filesystem can (O_TMPFILE: ext4, tmpfs, xfs, btrfs), an output is
 * written to a file without a name in its directory, and linked under the target's name only
 * when complete: no name is taken before, and a run that is killed leaves nothing behind.
 * A named temporary takes the directory's lock twice per output (create, rename): two workers
 * writing 200 outputs into one directory on tmpfs took 2.6 ms, against 1.9 ms unnamed and
 * 2.9 ms for one worker alone. Naming the file needs /proc (linkat of /proc/self/fd/N); without
 * it, or without O_TMPFILE, outputs use a named temporary. */
static int unnamed_outputs_possible(void)
{
    static atomic_int known; /* 0: not checked yet, 1: /proc/self/fd is there, -1: it is not */
    int state = atomic_load(&known);
    if (state == 0) {
        /* MELSPEC_CLI_NAMED_TEMPORARIES=1: the other way, for the tests */
        const char *named = getenv("MELSPEC_CLI_NAMED_TEMPORARIES");
        state = (named == NULL || strcmp(named, "1") != 0) && access("/proc/self/fd", X_OK) == 0
                    ? 1
                    : -1;
        atomic_store(&known, state);
    }
    return state > 0;
}

static int open_unnamed(const char *parent)
{
#ifdef O_TMPFILE
    if (unnamed_outputs_possible()) return open(parent, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
#else
    (void)parent;
#endif
    errno = EOPNOTSUPP;
    return -1;
}

static int appeared(const char *target, char *why, size_t why_capacity)
{
    return cli_fail(why, why_capacity,
                    "%s was made by someone else during the run: not replaced (--overwrite "
                    "replaces outputs)",
                    target);
}

/* Gives the unnamed file of descriptor the name target: linkat, which never replaces. Where
 * target exists and may be replaced (--overwrite), under a temporary name first, which rename
 * then moves over it. */
static int name_unnamed(int descriptor, const char *parent, const char *target, int replace,
                        char *why, size_t why_capacity)
{
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", descriptor);
    if (linkat(AT_FDCWD, self, AT_FDCWD, target, AT_SYMLINK_FOLLOW) == 0) return 0;
    if (errno == EEXIST && !replace) return appeared(target, why, why_capacity);
    if (errno != EEXIST)
        return cli_fail(why, why_capacity, "cannot create %s: %s", target, strerror(errno));
    const char *slash = strrchr(target, '/');
    const char *name = slash ? slash + 1 : target;
    const size_t length = strlen(parent) + strlen(name) + 48;
    char *temporary = malloc(length);
    if (temporary == NULL) return cli_fail_out_of_memory(why, why_capacity);
    int linked = -1;
    for (int attempt = 0; attempt < 100 && linked != 0; attempt++) {
        temporary_name(temporary, length, parent, name);
        linked = linkat(AT_FDCWD, self, AT_FDCWD, temporary, AT_SYMLINK_FOLLOW);
        if (linked != 0 && errno != EEXIST) break;
    }
    int result = 0;
    if (linked != 0) {
        result = cli_fail(why, why_capacity, "cannot create %s: %s", temporary, strerror(errno));
    } else if (rename(temporary, target) != 0) {
        result = cli_fail(why, why_capacity, "cannot rename into %s: %s", target, strerror(errno));
        unlink(temporary);
    }
    free(temporary);
    return result;
}

/* A named temporary moved to target: rename, or where target may not be replaced, renameat2's
 * RENAME_NOREPLACE (or link, which never replaces, where the filesystem has no such rename). */
static int rename_into_place(const char *temporary, const char *target, int replace, char *why,
                             size_t why_capacity)
{
    int moved = replace ? rename(temporary, target) : renameat2(AT_FDCWD, temporary, AT_FDCWD,
                                                                target, RENAME_NOREPLACE);
    if (moved != 0 && !replace && (errno == EINVAL || errno == ENOSYS)) {
        moved = link(temporary, target);
        if (moved == 0) unlink(temporary);
    }
    if (moved == 0) return 0;
    if (errno == EEXIST && !replace) return appeared(target, why, why_capacity);
    return cli_fail(why, why_capacity, "cannot rename into %s: %s", target, strerror(errno));
}

/* The stdio buffer of an output: one write for most files (a 4 KiB default made a 24 KiB .npy
 * three write calls). */
#define OUTPUT_BUFFER_BYTES ((size_t)1 << 16)

/* The descriptor of a new file for target in parent: unnamed where possible, else a named
 * temporary (file->temporary). -1 with errno set when neither could be created. */
static int create_output(cli_atomic_file *file, const char *parent, const char *name)
{
    const int unnamed = open_unnamed(parent);
    if (unnamed >= 0 || errno == ENOENT) {
        file->unnamed = unnamed >= 0;
        return unnamed;
    }
    const size_t length = strlen(parent) + strlen(name) + 48;
    file->temporary = malloc(length);
    if (file->temporary == NULL) {
        errno = ENOMEM;
        return -1;
    }
    const int descriptor = open_temporary(file->temporary, length, parent, name);
    if (descriptor < 0) {
        const int saved_errno = errno;
        free(file->temporary); /* not created: nothing to remove */
        file->temporary = NULL;
        errno = saved_errno;
    }
    return descriptor;
}

int cli_atomic_open(cli_atomic_file *file, const char *target, int replace, char *why,
                    size_t why_capacity)
{
    memset(file, 0, sizeof *file);
    file->target = target;
    file->replace = replace;
    if (strcmp(target, "-") == 0) {
        file->to_stdout = 1;
        file->stream = stdout;
        return 0;
    }
    file->parent = cli_parent_directory(target);
    if (file->parent == NULL) return cli_fail_out_of_memory(why, why_capacity);
    const char *slash = strrchr(target, '/');
    const char *name = slash ? slash + 1 : target;
    int descriptor = create_output(file, file->parent, name);
    /* The planning made the directories; they are made again only when one has gone since (a
     * mkdir per file would take each parent's lock once per output, from every worker). */
    if (descriptor < 0 && errno == ENOENT) {
        if (cli_make_parent_directories(target, why, why_capacity) != 0) {
            cli_atomic_discard(file);
            return -1;
        }
        descriptor = create_output(file, file->parent, name);
    }
    if (descriptor < 0) {
        snprintf(why, why_capacity, "cannot create %s: %s", target, strerror(errno));
        cli_atomic_discard(file);
        return -1;
    }
    file->stream = fdopen(descriptor, "wb");
    if (file->stream == NULL) {
        snprintf(why, why_capacity, "cannot write %s: %s", target, strerror(errno));
        close(descriptor);
        cli_atomic_discard(file);
        return -1;
    }
    /* glibc takes the size only with a buffer; without one (out of memory), stdio's own */
    file->buffer = malloc(OUTPUT_BUFFER_BYTES);
    if (file->buffer != NULL)
        (void)setvbuf(file->stream, file->buffer, _IOFBF, OUTPUT_BUFFER_BYTES);
    return 0;
}

int cli_atomic_commit(cli_atomic_file *file, char *why, size_t why_capacity)
{
    if (file->to_stdout) {
        const int ok = fflush(file->stream) == 0 && !ferror(file->stream);
        file->stream = NULL;
        if (!ok) return cli_fail(why, why_capacity, "cannot write to stdout: %s", strerror(errno));
        return 0;
    }
    /* Every byte written, and every write checked, before the file gets its name; an unnamed
     * one is named while its descriptor is still open. */
    int result = 0;
    if (fflush(file->stream) != 0 || ferror(file->stream))
        result = cli_fail(why, why_capacity, "cannot write %s: %s", file->target,
                          strerror(errno ? errno : EIO));
    else if (file->unnamed)
        result = name_unnamed(fileno(file->stream), file->parent, file->target, file->replace,
                              why, why_capacity);
    const int close_error = fclose(file->stream) != 0;
    const int close_errno = errno;
    file->stream = NULL;
    if (result == 0 && close_error) {
        result = cli_fail(why, why_capacity, "cannot write %s: %s", file->target,
                          strerror(close_errno ? close_errno : EIO));
        if (file->unnamed) unlink(file->target); /* named above, but not known to be whole */
    } else if (result == 0 && !file->unnamed) {
        result = rename_into_place(file->temporary, file->target, file->replace, why,
                                   why_capacity);
    }
    if (result == 0) { /* renamed: nothing left to remove */
        free(file->temporary);
        file->temporary = NULL;
    }
    cli_atomic_discard(file);
    return result;
}

void cli_atomic_discard(cli_atomic_file *file)
{
    if (file->stream != NULL && !file->to_stdout) fclose(file->stream); /* unnamed: gone */
    file->stream = NULL;
    if (file->temporary != NULL) unlink(file->temporary);
    free(file->temporary);
    file->temporary = NULL;
    free(file->parent);
    file->parent = NULL;
    free(file->buffer);
    file->buffer = NULL;
}
