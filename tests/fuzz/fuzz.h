/* SPDX-License-Identifier: MIT */
/*
 * Entry points every libFuzzer harness in tests/fuzz/ provides. The replay
 * driver (replay_main.c) calls them for each corpus file when the tree is
 * built without libFuzzer.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* FUZZ_H */
