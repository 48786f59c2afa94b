#define _GNU_SOURCE
#include "CTensorShims.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/vfs.h>
#endif

int tensortool_start_writeback(int fd, long long offset, long long length) {
#if defined(__linux__)
  return sync_file_range(fd, (off_t)offset, (off_t)length, SYNC_FILE_RANGE_WRITE);
#else
  (void)fd; (void)offset; (void)length;
  return 0;
#endif
}

int tensortool_open_tmpfile(const char *directory, unsigned int mode) {
#if defined(__linux__) && defined(O_TMPFILE)
  return open(directory, O_TMPFILE | O_RDWR | O_CLOEXEC, mode);
#else
  (void)directory; (void)mode;
  errno = EOPNOTSUPP;
  return -1;
#endif
}

int tensortool_link_unnamed(int fd, const char *path) {
#if defined(__linux__)
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  if (linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0) return 0;
  if (errno != ENOENT) return -1;
  // No /proc: the same through AT_EMPTY_PATH (needs CAP_DAC_READ_SEARCH).
  return linkat(fd, "", AT_FDCWD, path, AT_EMPTY_PATH);
#else
  (void)fd; (void)path;
  errno = EOPNOTSUPP;
  return -1;
#endif
}

int tensortool_is_memory_fs(int fd) {
#if defined(__linux__)
  struct statfs info;
  if (fstatfs(fd, &info) != 0) return 0;
  return info.f_type == 0x01021994 /* TMPFS_MAGIC */ || info.f_type == (long)0x858458f6 /* RAMFS_MAGIC */;
#else
  (void)fd;
  return 0;
#endif
}

int tensortool_open_direct(const char *path) {
#if defined(__linux__) && defined(O_DIRECT)
  return open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
#else
  (void)path;
  errno = EINVAL;
  return -1;
#endif
}

int tensortool_reopen_direct_for_writing(int fd) {
#if defined(__linux__) && defined(O_DIRECT)
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  return open(proc, O_WRONLY | O_DIRECT | O_CLOEXEC);
#else
  (void)fd;
  errno = EINVAL;
  return -1;
#endif
}
