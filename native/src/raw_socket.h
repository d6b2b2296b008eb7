/*
 * Copyright (C) 2025 The Lupina authors
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 3 of the License, or (at your
 * option) any later version.
 */

/**
 * @defgroup raw_socket raw_socket
 * Raw IP sockets for one IP protocol, such as ESP (50) or AH (51).
 *
 * @{ @ingroup lupina_native
 */

#ifndef LUPINA_RAW_SOCKET_H_
#define LUPINA_RAW_SOCKET_H_

#include <node_api.h>

/**
 * JavaScript function openRawSocket(family, protocol, bindAddress,
 * headerIncluded).
 *
 * Opens a non-blocking socket(AF_INET or AF_INET6, SOCK_RAW, protocol),
 * bound to bindAddress unless it is null. What it reads and writes:
 *
 * - IPv4 receives the whole packet with its IPv4 header, IPv6 receives
 *   the payload after the IPv6 header and its extension headers.
 * - Both send the payload only, and the kernel builds the IP header,
 *   unless headerIncluded sets IP_HDRINCL on an IPv4 socket. Then sends
 *   take whole IPv4 packets, and the kernel fills in the checksum and the
 *   total length, and the Identification and source address if zero
 *   (Linux raw(7)).
 *
 * Arguments: family (4 or 6), protocol (1 to 254), bindAddress (numeric
 * address of the family, or null), headerIncluded (boolean).
 *
 * @param env		N-API environment
 * @param info		callback info
 * @return			a PacketHandle, NULL if an exception is pending
 */
napi_value raw_socket_open(napi_env env, napi_callback_info info);

#endif /** LUPINA_RAW_SOCKET_H_ @}*/
