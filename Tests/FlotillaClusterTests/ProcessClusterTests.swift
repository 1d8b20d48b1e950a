import Testing

/// Every test that starts coordinator and worker processes runs in this
/// suite, one at a time: their timers are shortened to a second or two, and
/// several clusters at once on a 2-core machine would starve each other.
@Suite(.serialized) enum ProcessClusterTests {}
