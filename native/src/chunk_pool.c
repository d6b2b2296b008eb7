/*
 * Copyright (C) 2026 The Lupina authors
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 3 of the License, or (at your
 * option) any later version.
 */

#include "chunk_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>

/** Freed chunks ready for reuse */
static uint8_t *kept[CHUNK_POOL_KEEP];

/** Number of chunks in kept */
static size_t kept_count;

/** Guards kept and kept_count */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/**
 * Whether the runtime rejected a Buffer on outside memory. Electron's V8
 * memory cage does (napi_no_external_buffers_allowed), and then every
 * batch is copied.
 */
static atomic_bool external_rejected;

/*
 * Described in header
 */
uint8_t *chunk_pool_take(void)
{
	uint8_t *chunk = NULL;
	void *mapped;

	pthread_mutex_lock(&lock);
	if (kept_count > 0)
	{
		chunk = kept[--kept_count];
	}
	pthread_mutex_unlock(&lock);
	if (chunk)
	{
		return chunk;
	}

	mapped = mmap(NULL, CHUNK_POOL_CHUNK_SIZE, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return mapped == MAP_FAILED ? NULL : mapped;
}

/*
 * Described in header
 */
void chunk_pool_give_back(uint8_t *chunk)
{
	bool keep = false;

	if (!chunk)
	{
		return;
	}
	pthread_mutex_lock(&lock);
	if (kept_count < CHUNK_POOL_KEEP)
	{
		kept[kept_count++] = chunk;
		keep = true;
	}
	pthread_mutex_unlock(&lock);
	if (!keep)
	{
		munmap(chunk, CHUNK_POOL_CHUNK_SIZE);
	}
}

/**
 * Finalizer of a Buffer that owns a chunk.
 */
static void finalize(napi_env env, void *data, void *hint)
{
	(void)env;
	(void)hint;
	chunk_pool_give_back(data);
}

/*
 * Described in header
 */
napi_status chunk_pool_buffer(napi_env env, uint8_t *chunk, size_t used,
							  napi_value *buffer, bool *handed_over)
{
	napi_status status;

	*handed_over = false;
	if (used >= CHUNK_POOL_COPY_BELOW && !atomic_load(&external_rejected))
	{
		status = napi_create_external_buffer(env, used, chunk, finalize, NULL,
											 buffer);
		if (status == napi_ok)
		{
			*handed_over = true;
			return napi_ok;
		}
		if (status != napi_no_external_buffers_allowed)
		{
			return status;
		}
		atomic_store(&external_rejected, true);
	}
	return napi_create_buffer_copy(env, used, chunk, NULL, buffer);
}
