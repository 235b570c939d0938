//! The generic-hmac verifier with fuzzed settings (header, algorithm, encoding, prefix from
//! the config line); see `hookline_fuzz::fuzz_verify`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hookline_fuzz::fuzz_verify(None, data));
