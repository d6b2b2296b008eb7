/*
 * Copyright (C) 2025 The Lupina authors
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 3 of the License, or (at your
 * option) any later version.
 */

/**
 * @defgroup unsupported unsupported
 * Stand-in addon for systems other than Linux.
 *
 * It builds everywhere, so npm install works on every system, and each
 * export throws ERR_LUPINA_UNSUPPORTED_PLATFORM when called.
 */

#include <node_api.h>

/**
 * Throw the error every export of this addon throws.
 *
 * @param env		N-API environment
 * @param info		unused
 * @return			NULL, an exception is pending
 */
static napi_value unsupported(napi_env env, napi_callback_info info)
{
	(void)info;
	napi_throw_error(env, "ERR_LUPINA_UNSUPPORTED_PLATFORM",
					 "TUN devices, raw sockets and routing netlink are "
					 "implemented for Linux only");
	return NULL;
}

NAPI_MODULE_INIT()
{
	napi_property_descriptor functions[] = {
		{ "openTun", NULL, unsupported, NULL, NULL, NULL, napi_enumerable,
		  NULL },
		{ "deleteTun", NULL, unsupported, NULL, NULL, NULL, napi_enumerable,
		  NULL },
		{ "openRawSocket", NULL, unsupported, NULL, NULL, NULL,
		  napi_enumerable, NULL },
		{ "rtnetlinkRequest", NULL, unsupported, NULL, NULL, NULL,
		  napi_enumerable, NULL },
		{ "interfaceIndex", NULL, unsupported, NULL, NULL, NULL,
		  napi_enumerable, NULL },
		{ "interfaceName", NULL, unsupported, NULL, NULL, NULL,
		  napi_enumerable, NULL },
		{ "offloadSplit", NULL, unsupported, NULL, NULL, NULL,
		  napi_enumerable, NULL },
		{ "offloadMerge", NULL, unsupported, NULL, NULL, NULL,
		  napi_enumerable, NULL },
	};

	if (napi_define_properties(env, exports,
							   sizeof(functions) / sizeof(functions[0]),
							   functions) != napi_ok)
	{
		return NULL;
	}
	return exports;
}
