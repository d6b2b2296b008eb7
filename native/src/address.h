/*
 * Copyright (C) 2025 The Lupina authors
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 3 of the License, or (at your
 * option) any later version.
 */

/**
 * @defgroup address address
 * Conversion between numeric IP address strings and socket addresses.
 *
 * @{ @ingroup lupina_native
 */

#ifndef LUPINA_ADDRESS_H_
#define LUPINA_ADDRESS_H_

#include <node_api.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

/** Buffer size for a formatted address with an IPv6 zone ("%eth0") */
#define ADDRESS_TEXT_SIZE (INET6_ADDRSTRLEN + IF_NAMESIZE + 1)

/**
 * Read a JavaScript string holding a numeric address of a family.
 *
 * IPv6 addresses may carry a zone, as an interface name or index after a
 * "%" (fe80::1%eth0). The port of the result is 0. Throws a TypeError
 * with code ERR_INVALID_ARG_VALUE or ERR_INVALID_ARG_TYPE on failure.
 *
 * @param env		N-API environment
 * @param value		JavaScript value to read
 * @param family	AF_INET or AF_INET6
 * @param role		what the address is for, used in messages ("destination")
 * @param address	receives the socket address
 * @param length	receives the length of the socket address
 * @return			0 on success, -1 if an exception is pending
 */
int address_from_value(napi_env env, napi_value value, int family,
					   const char *role, struct sockaddr_storage *address,
					   socklen_t *length);

/**
 * Format the IP address of a socket address, without its port.
 *
 * IPv6 addresses with a scope ID get a "%" and the interface name (or the
 * index if the interface is gone).
 *
 * @param address	AF_INET or AF_INET6 socket address
 * @param text		receives the NUL-terminated text
 * @param size		size of text, at least ADDRESS_TEXT_SIZE
 * @return			0 on success, -1 for another family
 */
int address_format(const struct sockaddr_storage *address, char *text,
				   size_t size);

#endif /** LUPINA_ADDRESS_H_ @}*/
