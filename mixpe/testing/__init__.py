"""Test-support code shared by the test suite and the benchmarks (fuzz case generators,
IR mutators). Not used by the compiler itself."""
