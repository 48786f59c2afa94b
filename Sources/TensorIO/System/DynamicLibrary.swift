import Glibc

/// A shared library loaded at run time (the CUDA driver), so that the binary runs, and
/// says why, where the library is absent.
struct DynamicLibrary: @unchecked Sendable {
  // Safety: the handle is never closed (the library stays loaded for the life of the
  // process) and `dlsym` may be called from any thread.
  private let handle: UnsafeMutableRawPointer

  /// Loads the library `name` (`RTLD_NOW | RTLD_LOCAL`); the error is `dlerror()`'s
  /// text. Wraps `dlopen(3)`.
  init(loading name: String) throws(DynamicLibraryError) {
    guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
      throw DynamicLibraryError(detail: dlerror().map { String(cString: $0) } ?? "\(name) not found")
    }
    self.handle = handle
  }

  /// The address of symbol `name`, or nil when the library lacks it. Wraps `dlsym(3)`.
  func symbol(_ name: String) -> UnsafeMutableRawPointer? {
    dlsym(handle, name)
  }
}

/// Why a shared library could not be loaded: `dlerror()`'s text.
struct DynamicLibraryError: Error {
  /// The loader's message.
  var detail: String
}
