/*
 * Copyright (C) 2026 The Lupina authors
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 3 of the License, or (at your
 * option) any later version.
 */

/**
 * @defgroup chunk_pool chunk_pool
 * Memory for the Buffers that carry received packets to JavaScript.
 *
 * A handle copies the packets of one wake-up one after the other into a
 * chunk of its own. At the end of the batch the bytes used go to
 * JavaScript in one Buffer, which JavaScript cuts into views:
 *
 * - A large batch gets the chunk itself: the Buffer covers only the bytes
 *   used, so V8 counts only those as external memory, and the chunk goes
 *   back to the pool when the garbage collector frees the last view.
 * - A small batch, such as a single ACK or a burst of small UDP packets,
 *   is copied into a Buffer of its exact size, and the handle keeps the
 *   chunk. A 256 KiB chunk per small packet would make V8 run a full
 *   collection every few hundred wake-ups, and cost a mapping each.
 *
 * Chunks are mapped with mmap(2), so the pool never takes them from the
 * heap. Taking them from malloc() made glibc raise its mmap threshold, and
 * the heap then fragmented and raised the resident size of a busy tunnel
 * by about 40 MB. The pool keeps a few freed chunks for reuse and unmaps
 * the rest.
 *
 * Safe to use from several threads (Node.js workers).
 *
 * @{ @ingroup lupina_native
 */

#ifndef LUPINA_CHUNK_POOL_H_
#define LUPINA_CHUNK_POOL_H_

#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * Size of a chunk. A 64 KiB TCP packet split into segments needs about
 * 64 KiB plus one set of headers per segment: 188 KiB with 1024 segments
 * and the longest IPv4 and TCP headers. A split frame that needs more,
 * possible only with long IPv6 options headers, is dropped and counted.
 */
#define CHUNK_POOL_CHUNK_SIZE (256 * 1024)

/** Batches smaller than this are copied, see above */
#define CHUNK_POOL_COPY_BELOW (32 * 1024)

/** Freed chunks kept for reuse, at most */
#define CHUNK_POOL_KEEP 16

/**
 * Take a chunk of CHUNK_POOL_CHUNK_SIZE bytes, not initialized.
 *
 * @return			the chunk, NULL if out of memory
 */
uint8_t *chunk_pool_take(void);

/**
 * Return a chunk that no Buffer uses.
 *
 * @param chunk		chunk from chunk_pool_take(), may be NULL
 */
void chunk_pool_give_back(uint8_t *chunk);

/**
 * Create the Buffer for the first used bytes of a chunk: the chunk itself
 * for a large batch, a copy for a small one.
 *
 * @param env		N-API environment
 * @param chunk		chunk from chunk_pool_take()
 * @param used		bytes to pass on
 * @param buffer	receives the Buffer
 * @param handed_over	receives true if the Buffer now owns the chunk, false
 *					if the caller still owns it
 * @return			napi_ok, or the status of the failed N-API call
 */
napi_status chunk_pool_buffer(napi_env env, uint8_t *chunk, size_t used,
							  napi_value *buffer, bool *handed_over);

#endif /** LUPINA_CHUNK_POOL_H_ @}*/
