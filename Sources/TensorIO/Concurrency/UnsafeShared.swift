/// A value that is not `Sendable` (a raw pointer, a buffer, a callback, a reference to a
/// non-thread-safe object) handed to the worker threads of one parallel region.
///
/// This wrapper is the one place where TensorIO tells the compiler "trust me" about a
/// value crossing threads, so that every such promise is written down beside it. The
/// rule a use must follow (and state in a `Safety:` comment where it wraps the value):
///
/// - the value outlives the region: the region (`Parallel`, `BackgroundTask`) returns
///   or is waited for before the memory is freed or the object released;
/// - memory behind a pointer is only read by every thread, or each thread writes a
///   range no other thread reads or writes during the region;
/// - a callback or object that is not thread-safe is used by one thread at a time,
///   under a lock or by a hand-over that orders the uses (the region's start and end).
struct UnsafeShared<Value>: @unchecked Sendable {
  // Safety: the rule above, stated at each use.
  /// The wrapped value.
  let value: Value

  /// Wraps `value` (see the type's safety rule).
  init(_ value: Value) { self.value = value }
}
