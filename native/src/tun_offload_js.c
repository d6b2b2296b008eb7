/*
 * Copyright (C) 2026 The Lupina authors
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 3 of the License, or (at your
 * option) any later version.
 */

#include "tun_offload_js.h"
#include "errors.h"
#include "tun_offload.h"

#include <stdlib.h>

/**
 * Append a new Buffer of length bytes to an array.
 *
 * @param env		N-API environment
 * @param array		the array
 * @param index		where the Buffer goes
 * @param length	its length, may be 0
 * @param data		receives its bytes (NULL for length 0)
 * @return			true, or false if an N-API call failed
 */
static bool append_buffer(napi_env env, napi_value array, uint32_t index,
						  size_t length, uint8_t **data)
{
	napi_value buffer;
	void *bytes = NULL;

	if (napi_create_buffer(env, length, &bytes, &buffer) != napi_ok ||
		napi_set_element(env, array, index, buffer) != napi_ok)
	{
		return false;
	}
	*data = bytes;
	return true;
}

/*
 * Described in header
 */
napi_value tun_offload_js_split(napi_env env, napi_callback_info info)
{
	tun_offload_error_t error;
	tun_split_t split;
	napi_value argv[1], result;
	size_t argc = 1, length, index;
	uint8_t *frame, *out;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok ||
		argc < 1 || !lupina_get_packet(env, argv[0], (void**)&frame, &length))
	{
		return NULL;
	}
	error = tun_offload_split_plan(frame, length, &split);
	if (error != TUN_OFFLOAD_OK)
	{
		lupina_throw_type_error(env, "ERR_LUPINA_OFFLOAD",
								"Cannot split the frame: %s",
								tun_offload_error_text(error));
		return NULL;
	}
	if (napi_create_array(env, &result) != napi_ok)
	{
		return NULL;
	}
	for (index = 0; index < split.count; index++)
	{
		if (!append_buffer(env, result, (uint32_t)index,
						   tun_offload_segment_length(&split, index), &out))
		{
			return NULL;
		}
		tun_offload_segment_build(&split, index, out);
	}
	return result;
}

/*
 * Described in header
 */
napi_value tun_offload_js_merge(napi_env env, napi_callback_info info)
{
	napi_value argv[1], *elements = NULL, result = NULL;
	tun_packet_t *packets = NULL;
	uint32_t count, i, frames = 0;
	size_t argc = 1, group;
	bool is_array = false;
	uint8_t *out;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok ||
		argc < 1 || napi_is_array(env, argv[0], &is_array) != napi_ok ||
		!is_array || napi_get_array_length(env, argv[0], &count) != napi_ok)
	{
		lupina_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
								"offloadMerge() needs an array of Uint8Arrays");
		return NULL;
	}
	packets = calloc(count ? count : 1, sizeof(*packets));
	elements = calloc(count ? count : 1, sizeof(*elements));
	if (!packets || !elements || napi_create_array(env, &result) != napi_ok)
	{
		result = NULL;
		goto done;
	}
	/* getters run first, so none can change a buffer after its pointer
	 * was taken */
	for (i = 0; i < count; i++)
	{
		if (napi_get_element(env, argv[0], i, &elements[i]) != napi_ok)
		{
			result = NULL;
			goto done;
		}
	}
	for (i = 0; i < count; i++)
	{
		if (!lupina_get_packet(env, elements[i], (void**)&packets[i].data,
							   &packets[i].length))
		{
			result = NULL;
			goto done;
		}
	}

	for (i = 0; i < count; i += (uint32_t)group)
	{
		group = tun_offload_group(packets + i, count - i);
		if (!append_buffer(env, result, frames++,
						   tun_offload_merged_length(packets + i, group), &out))
		{
			result = NULL;
			goto done;
		}
		tun_offload_merge(packets + i, group, out);
	}

done:
	free(elements);
	free(packets);
	return result;
}
