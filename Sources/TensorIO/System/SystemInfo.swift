import Glibc

/// What the system says about itself: processors, pages, memory, environment.
enum SystemInfo {
  /// The number of processors online, at least 1. Wraps `sysconf(_SC_NPROCESSORS_ONLN)`;
  /// read once.
  static let onlineProcessors: Int = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))

  /// The size of a memory page in bytes, at least 1. Wraps `sysconf(_SC_PAGESIZE)`.
  static let pageSize: Int = max(1, sysconf(Int32(_SC_PAGESIZE)))

  /// The physical memory in bytes, or nil when unknown. Wraps
  /// `sysconf(_SC_PHYS_PAGES)`.
  static var physicalMemory: Int? {
    let pages = sysconf(Int32(_SC_PHYS_PAGES))
    guard pages > 0 else { return nil }
    let (bytes, overflow) = pages.multipliedReportingOverflow(by: pageSize)
    return overflow ? nil : bytes
  }

  /// The value of environment variable `name`, or nil when it is not set. Wraps
  /// `getenv(3)`.
  static func environment(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
  }
}
