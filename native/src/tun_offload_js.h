/*
 * Copyright (C) 2026 The Lupina authors
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 3 of the License, or (at your
 * option) any later version.
 */

/**
 * @defgroup tun_offload_js tun_offload_js
 * The rules of tun_offload.h as JavaScript functions, so tests can feed
 * them frames and packets without a TUN device.
 *
 * @{ @ingroup lupina_native
 */

#ifndef LUPINA_TUN_OFFLOAD_JS_H_
#define LUPINA_TUN_OFFLOAD_JS_H_

#include <node_api.h>

/**
 * JavaScript function offloadSplit(frame): the packets that a frame read
 * from a TUN device with a virtio header gives, as Buffers. Throws a
 * TypeError with code ERR_LUPINA_OFFLOAD for a frame that would be
 * dropped and counted.
 *
 * @param env		N-API environment
 * @param info		callback info, a Uint8Array
 * @return			array of Buffers, NULL if an exception is pending
 */
napi_value tun_offload_js_split(napi_env env, napi_callback_info info);

/**
 * JavaScript function offloadMerge(packets): the frames, virtio header
 * included, that writeBatch() writes for these packets.
 *
 * @param env		N-API environment
 * @param info		callback info, an array of Uint8Arrays
 * @return			array of Buffers, NULL if an exception is pending
 */
napi_value tun_offload_js_merge(napi_env env, napi_callback_info info);

#endif /** LUPINA_TUN_OFFLOAD_JS_H_ @}*/
