/*
 * Copyright (C) 2025 The Lupina authors
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 3 of the License, or (at your
 * option) any later version.
 */

/**
 * @defgroup lupina_native lupina_native
 * Node-API addon with TUN devices and raw IP sockets for Linux.
 *
 * Uses only Node-API version 8 in C, so one build loads in Node.js and in
 * Electron. Exports openTun(), deleteTun(), openRawSocket(),
 * rtnetlinkRequest(), interfaceIndex(), interfaceName(), offloadSplit(),
 * offloadMerge() and the batchLimit constant (PACKET_HANDLE_BATCH_LIMIT).
 */

#include "errors.h"
#include "packet_handle.h"
#include "raw_socket.h"
#include "rtnetlink.h"
#include "tun.h"
#include "tun_offload_js.h"

/**
 * Define the exports of the addon.
 *
 * @param env		N-API environment
 * @param exports	exports object
 * @return			exports, NULL if an exception is pending
 */
static napi_value init(napi_env env, napi_value exports)
{
	napi_property_descriptor functions[] = {
		{ "openTun", NULL, tun_open, NULL, NULL, NULL, napi_enumerable,
		  NULL },
		{ "deleteTun", NULL, tun_delete, NULL, NULL, NULL, napi_enumerable,
		  NULL },
		{ "openRawSocket", NULL, raw_socket_open, NULL, NULL, NULL,
		  napi_enumerable, NULL },
		{ "rtnetlinkRequest", NULL, rtnetlink_request, NULL, NULL, NULL,
		  napi_enumerable, NULL },
		{ "interfaceIndex", NULL, rtnetlink_interface_index, NULL, NULL, NULL,
		  napi_enumerable, NULL },
		{ "interfaceName", NULL, rtnetlink_interface_name, NULL, NULL, NULL,
		  napi_enumerable, NULL },
		{ "offloadSplit", NULL, tun_offload_js_split, NULL, NULL, NULL,
		  napi_enumerable, NULL },
		{ "offloadMerge", NULL, tun_offload_js_merge, NULL, NULL, NULL,
		  napi_enumerable, NULL },
		{ "batchLimit", NULL, NULL, NULL, NULL, NULL, napi_enumerable,
		  NULL },
	};
	napi_status status;

	status = packet_handle_init(env);
	if (status != napi_ok)
	{
		goto failed;
	}
	status = napi_create_uint32(env, PACKET_HANDLE_BATCH_LIMIT,
								&functions[8].value);
	if (status != napi_ok)
	{
		goto failed;
	}
	status = napi_define_properties(env, exports,
							sizeof(functions) / sizeof(functions[0]),
							functions);
	if (status != napi_ok)
	{
		goto failed;
	}
	return exports;

failed:
	lupina_throw_napi(env, status, "module initialization");
	return NULL;
}

NAPI_MODULE_INIT()
{
	return init(env, exports);
}
