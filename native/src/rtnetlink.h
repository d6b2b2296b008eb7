/*
 * Copyright (C) 2026 The Lupina authors
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 3 of the License, or (at your
 * option) any later version.
 */

/**
 * @defgroup rtnetlink rtnetlink
 * Requests to the kernel's routing netlink (NETLINK_ROUTE), so that links,
 * addresses and routes change without starting an `ip` process.
 *
 * The messages are built and parsed in JavaScript (main/net/netlink); this
 * group only sends one request and collects the kernel's reply.
 *
 * @{ @ingroup lupina_native
 */

#ifndef LUPINA_RTNETLINK_H_
#define LUPINA_RTNETLINK_H_

#include <node_api.h>

/**
 * JavaScript function rtnetlinkRequest(message).
 *
 * Sends one netlink message (a Uint8Array holding a whole message whose
 * nlmsg_len equals its length) on a new NETLINK_ROUTE socket and returns
 * every message the kernel replies with, as one Buffer. A request with
 * NLM_F_DUMP ends at NLMSG_DONE or NLMSG_ERROR; any other request needs
 * NLM_F_ACK and ends at its NLMSG_ERROR, which carries error 0 on success.
 * Extended acknowledgements (NETLINK_EXT_ACK) are on, so an error can carry
 * the kernel's explanation. Waits at most 5 seconds for the kernel.
 *
 * @param env		N-API environment
 * @param info		callback info
 * @return			the reply, NULL if an exception is pending
 */
napi_value rtnetlink_request(napi_env env, napi_callback_info info);

/**
 * JavaScript function interfaceIndex(name): the index of the interface
 * with that name in the process's network namespace, or 0 if none.
 *
 * @param env		N-API environment
 * @param info		callback info
 * @return			the index, NULL if an exception is pending
 */
napi_value rtnetlink_interface_index(napi_env env, napi_callback_info info);

/**
 * JavaScript function interfaceName(index): the name of the interface
 * with that index, or null if none.
 *
 * @param env		N-API environment
 * @param info		callback info
 * @return			the name or null, NULL if an exception is pending
 */
napi_value rtnetlink_interface_name(napi_env env, napi_callback_info info);

#endif /** LUPINA_RTNETLINK_H_ @}*/
