// The seeded generator the tests share with the benchmarks.
@_exported import SplitMix
