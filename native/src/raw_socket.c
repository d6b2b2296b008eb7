/*
 * Copyright (C) 2025 The Lupina authors
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 3 of the License, or (at your
 * option) any later version.
 */

#include "raw_socket.h"
#include "address.h"
#include "errors.h"
#include "packet_handle.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

/**
 * Read the family and protocol arguments.
 *
 * @param env		N-API environment
 * @param argv		the family and protocol values
 * @param family	receives AF_INET or AF_INET6
 * @param protocol	receives the IP protocol number
 * @return			true on success, false if an exception is pending
 */
static bool get_family_protocol(napi_env env, napi_value argv[2],
								int *family, int *protocol)
{
	int32_t version;

	if (napi_get_value_int32(env, argv[0], &version) != napi_ok ||
		(version != 4 && version != 6))
	{
		lupina_throw_type_error(env, "ERR_INVALID_ARG_VALUE",
								"The address family must be 4 or 6");
		return false;
	}

	/* 0 is not a protocol, and 255 (IPPROTO_RAW) cannot receive */
	if (napi_get_value_int32(env, argv[1], protocol) != napi_ok ||
		*protocol < 1 || *protocol > 254)
	{
		lupina_throw_type_error(env, "ERR_INVALID_ARG_VALUE",
								"The IP protocol must be from 1 to 254");
		return false;
	}
	*family = version == 4 ? AF_INET : AF_INET6;
	return true;
}

/**
 * Create the socket, throwing a helpful error on failure.
 *
 * @param env		N-API environment
 * @param family	AF_INET or AF_INET6
 * @param protocol	IP protocol number
 * @param label		description of the socket, for errors
 * @return			descriptor, -1 if an exception is pending
 */
/** Receive buffer asked for on raw sockets, in bytes. */
#define RAW_SOCKET_RECEIVE_BUFFER (4 * 1024 * 1024)

static void enlarge_receive_buffer(int fd);

static int create_socket(napi_env env, int family, int protocol,
						 const char *label)
{
	const char *hint = NULL;
	int fd, err;

	fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
	if (fd >= 0)
	{
		enlarge_receive_buffer(fd);
		return fd;
	}
	err = errno;
	switch (err)
	{
		case EPERM:
		case EACCES:
			hint = "Raw sockets need root or the CAP_NET_RAW capability.";
			break;
		case EAFNOSUPPORT:
			hint = "The kernel has no support for this address family; "
				   "IPv6 may be disabled.";
			break;
	}
	lupina_throw_errno(env, err, "socket", hint, "Cannot open a %s", label);
	return -1;
}

/**
 * Raise the receive buffer so that a burst of tunnel traffic waits in the
 * kernel while the event loop is busy, instead of being dropped. The default
 * (net.core.rmem_default, often 208 KiB) holds about 150 full-size packets.
 * SO_RCVBUFFORCE passes net.core.rmem_max but needs CAP_NET_ADMIN, so plain
 * SO_RCVBUF, capped at rmem_max, is the fallback. Failure is not an error.
 *
 * @param fd		socket
 */
static void enlarge_receive_buffer(int fd)
{
	int size = RAW_SOCKET_RECEIVE_BUFFER;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) != 0)
	{
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
}

/**
 * Set the firewall mark of every packet sent (SO_MARK), so that policy
 * routing can keep the tunnel's own packets out of the tunnel.
 *
 * @param env		N-API environment
 * @param fd		socket
 * @param mark		non-zero mark
 * @param label		description of the socket, for errors
 * @return			true on success, false if an exception is pending
 */
static bool set_mark(napi_env env, int fd, uint32_t mark, const char *label)
{
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) == 0)
	{
		return true;
	}
	lupina_throw_errno(env, errno, "setsockopt(SO_MARK)",
					   "Setting a mark needs CAP_NET_ADMIN.",
					   "Cannot mark the packets of the %s", label);
	return false;
}

/**
 * Bind the socket to a local address.
 *
 * @param env		N-API environment
 * @param fd		socket
 * @param family	AF_INET or AF_INET6
 * @param value		JavaScript string with the address
 * @param label		description of the socket, for errors
 * @return			true on success, false if an exception is pending
 */
static bool bind_address(napi_env env, int fd, int family, napi_value value,
						 const char *label)
{
	char text[ADDRESS_TEXT_SIZE] = "";
	struct sockaddr_storage address;
	socklen_t length;
	int err;

	if (address_from_value(env, value, family, "bind", &address,
						   &length) != 0)
	{
		return false;
	}
	if (bind(fd, (struct sockaddr*)&address, length) == 0)
	{
		return true;
	}
	err = errno;
	address_format(&address, text, sizeof(text));
	lupina_throw_errno(env, err, "bind",
					   err == EADDRNOTAVAIL ? "No local interface has this "
					   "address; add it first (ip address add)." : NULL,
					   "Cannot bind the %s to %s", label, text);
	return false;
}

/**
 * Make an IPv4 socket send whole packets, see raw_socket_open().
 *
 * @param env		N-API environment
 * @param fd		IPv4 socket
 * @param label		description of the socket, for errors
 * @return			true on success, false if an exception is pending
 */
static bool include_header(napi_env env, int fd, const char *label)
{
	int on = 1;

	if (setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &on, sizeof(on)) == 0)
	{
		return true;
	}
	lupina_throw_errno(env, errno, "setsockopt(IP_HDRINCL)", NULL,
					   "Cannot set IP_HDRINCL on the %s", label);
	return false;
}

/*
 * Described in header
 */
napi_value raw_socket_open(napi_env env, napi_callback_info info)
{
	char label[64];
	napi_value argv[5];
	napi_valuetype type;
	size_t argc = 5;
	int family, protocol, fd;
	uint32_t mark;
	bool header_included;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok ||
		argc < 5 ||
		napi_typeof(env, argv[2], &type) != napi_ok ||
		napi_get_value_bool(env, argv[3], &header_included) != napi_ok ||
		napi_get_value_uint32(env, argv[4], &mark) != napi_ok)
	{
		lupina_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
				"openRawSocket(family, protocol, bindAddress, headerIncluded, "
				"mark) needs two numbers, a string or null, a boolean and a "
				"number");
		return NULL;
	}
	if (!get_family_protocol(env, argv, &family, &protocol))
	{
		return NULL;
	}
	if (header_included && family != AF_INET)
	{
		lupina_throw_type_error(env, "ERR_INVALID_ARG_VALUE",
								"headerIncluded is for IPv4 sockets only");
		return NULL;
	}
	snprintf(label, sizeof(label), "raw IPv%d socket for protocol %d",
			 family == AF_INET ? 4 : 6, protocol);

	fd = create_socket(env, family, protocol, label);
	if (fd < 0)
	{
		return NULL;
	}
	if (type != napi_null && type != napi_undefined &&
		!bind_address(env, fd, family, argv[2], label))
	{
		goto failed;
	}
	if (header_included && !include_header(env, fd, label))
	{
		goto failed;
	}
	if (mark != 0 && !set_mark(env, fd, mark, label))
	{
		goto failed;
	}
	return packet_handle_new(env, PACKET_HANDLE_RAW, family, fd, label,
							 false);

failed:
	close(fd);
	return NULL;
}
