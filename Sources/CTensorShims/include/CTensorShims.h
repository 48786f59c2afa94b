#ifndef TENSORTOOL_SHIMS_H
#define TENSORTOOL_SHIMS_H

#include <stddef.h>
#include <stdint.h>

/// Starts write-back of a byte range (Linux sync_file_range with
/// SYNC_FILE_RANGE_WRITE); returns 0 and does nothing on other systems.
int tensortool_start_writeback(int fd, long long offset, long long length);

/// Creates an unnamed, read-write file in `directory` (Linux `open` with O_TMPFILE):
/// it disappears with its last descriptor unless linked. Returns the descriptor, or -1
/// with errno set (EOPNOTSUPP and EISDIR where the file system or system lacks it).
int tensortool_open_tmpfile(const char *directory, unsigned int mode);

/// 1 when `fd` lies on a file system held in memory (tmpfs, ramfs; Linux `fstatfs`),
/// else 0 (also when unknown).
int tensortool_is_memory_fs(int fd);

/// Gives the unnamed file `fd` the name `path` (`linkat` through /proc/self/fd, or
/// AT_EMPTY_PATH without /proc); fails with EEXIST when `path` exists. 0, or -1 and errno.
int tensortool_link_unnamed(int fd, const char *path);

/// Opens `path` read-only for direct I/O (Linux O_DIRECT: reads bypass the page cache;
/// buffers, offsets and lengths must be aligned to the logical block size). Returns the
/// descriptor, or -1 and errno (EINVAL where the file system has no direct I/O).
int tensortool_open_direct(const char *path);

/// A second, write-only descriptor with O_DIRECT on the file open as `fd` (reopened
/// through /proc/self/fd, so it has its own open file description and `fd` stays
/// buffered). Returns the descriptor, or -1 and errno.
int tensortool_reopen_direct_for_writing(int fd);

/// Converts float32 values (byte-swapped first when `swap_in`) to float16 (byte-swapped
/// after when `swap_out`) with the CPU's conversion instructions (F16C), rounding to
/// nearest-even, 8 at a time. Stops before the first group of 8 that holds a NaN (whose
/// payload the caller converts exactly), or before the last `count % 8` values, or at
/// once on a CPU without AVX2 and F16C. Returns how many values it converted.
size_t tensortool_f32_to_f16(const void *source, void *destination, size_t count, int swap_in, int swap_out);

/// Copies `units` values of `width` bytes (2, 4 or 8), reversing the bytes of each
/// (AVX2 where the CPU has it). `source` may equal `destination` (in place); any other
/// overlap is not allowed. Other widths are copied unchanged.
void tensortool_copy_swapped(const void *source, void *destination, size_t units, int width);

/// Gathers a transpose of 32-bit elements: `destination[r * inner + i]` (row-major,
/// `rows` x `inner`) = the 4 bytes at `base + offsets[i] + 4 * r`, in 8 x 8 register
/// transposes (AVX2). Returns 1 when done, 0 (nothing written) when the CPU lacks AVX2
/// or `rows` or `inner` is not a multiple of 8.
int tensortool_gather_transpose32(
    const void *base, size_t rows, const ptrdiff_t *offsets, size_t inner, void *destination);

/// Feeds the first bytes of `data` into the CRC-32 `*crc` (zlib's convention: 0 for no
/// bytes) with carry-less multiplication (PCLMULQDQ) where the CPU has it: the longest
/// prefix that is a multiple of 16 bytes, when `length` is at least 64. Returns how many
/// bytes it fed (0 on other CPUs); the caller feeds the rest.
size_t tensortool_crc32_fold(uint32_t *crc, const void *data, size_t length);

#endif
