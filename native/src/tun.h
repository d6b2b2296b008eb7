/*
 * Copyright (C) 2025 The Lupina authors
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 3 of the License, or (at your
 * option) any later version.
 */

/**
 * @defgroup tun tun
 * Layer 3 TUN devices from /dev/net/tun.
 *
 * @{ @ingroup lupina_native
 */

#ifndef LUPINA_TUN_H_
#define LUPINA_TUN_H_

#include <node_api.h>

/**
 * JavaScript function openTun(name, persist, owner, group, offload).
 *
 * Opens /dev/net/tun and attaches to the interface name with IFF_TUN and
 * IFF_NO_PI, so each read or write is one bare IPv4 or IPv6 packet. The
 * kernel creates the interface unless a persistent one of that name
 * exists. A name with "%d" lets the kernel pick the first free number.
 *
 * Arguments: name (string), persist (boolean: set TUNSETPERSIST so the
 * interface outlives the descriptor), owner and group (uid and gid for
 * TUNSETOWNER and TUNSETGROUP, -1 to leave unset), offload (optional
 * boolean: open with IFF_VNET_HDR and enable TCP segmentation and checksum
 * offload, see tun_offload.h; the handle still reads and writes bare
 * packets).
 *
 * @param env		N-API environment
 * @param info		callback info
 * @return			a PacketHandle with a "name" property holding the name
 *					the kernel chose, NULL if an exception is pending
 */
napi_value tun_open(napi_env env, napi_callback_info info);

/**
 * JavaScript function deleteTun(name).
 *
 * Deletes a persistent TUN interface by attaching to it and clearing
 * TUNSETPERSIST, so the kernel removes it when the descriptor closes.
 * Throws ENODEV if no interface has that name and EBUSY if a process has
 * it open.
 *
 * @param env		N-API environment
 * @param info		callback info
 * @return			undefined, NULL if an exception is pending
 */
napi_value tun_delete(napi_env env, napi_callback_info info);

#endif /** LUPINA_TUN_H_ @}*/
