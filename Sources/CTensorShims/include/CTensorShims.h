#ifndef TENSORTOOL_SHIMS_H
#define TENSORTOOL_SHIMS_H

/// Starts write-back of a byte range (Linux sync_file_range with
/// SYNC_FILE_RANGE_WRITE); returns 0 and does nothing on other systems.
int tensortool_start_writeback(int fd, long long offset, long long length);

#endif
