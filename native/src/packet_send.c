/*
 * Copyright (C) 2025 The Lupina authors
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 3 of the License, or (at your
 * option) any later version.
 */

#include "packet_handle_priv.h"
#include "address.h"
#include "errors.h"

#include <errno.h>
#include <unistd.h>
#include <sys/socket.h>

/**
 * Get the bytes of a Uint8Array (or Buffer) argument.
 *
 * @param env		N-API environment
 * @param value		argument
 * @param data		receives a pointer to the first byte
 * @param length	receives the byte length
 * @return			true on success, false if an exception is pending
 */
static bool get_bytes(napi_env env, napi_value value, void **data,
					  size_t *length)
{
	napi_typedarray_type type;
	napi_value arraybuffer;
	bool is_typedarray = false;
	size_t offset;

	/* data already points past the byte offset of a view */
	if (napi_is_typedarray(env, value, &is_typedarray) != napi_ok ||
		!is_typedarray ||
		napi_get_typedarray_info(env, value, &type, length, data,
								 &arraybuffer, &offset) != napi_ok ||
		type != napi_uint8_array)
	{
		lupina_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
								"The packet must be a Uint8Array or Buffer");
		return false;
	}
	return true;
}

/**
 * Check whether a failed write only means the kernel queue is full.
 *
 * ENOBUFS counts as a full queue too, because Linux returns it for a raw
 * socket when the device queue or socket buffer is exhausted.
 *
 * @param err		errno of the failure
 * @return			true if the packet can be dropped and counted
 */
static bool is_queue_full(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS;
}

/**
 * Suggest what to do about a failed write(2) to a TUN device.
 *
 * @param err		errno of the failure
 * @return			hint, or NULL
 */
static const char *write_hint(int err)
{
	switch (err)
	{
		case EINVAL:
			return "The packet must start with an IPv4 or IPv6 header "
				   "(version 4 or 6 in the first 4 bits).";
		case EIO:
			return "Bring the interface up first (ip link set NAME up).";
		case EBADFD:
			return "The interface was deleted; open a new device.";
		default:
			return NULL;
	}
}

/**
 * Suggest what to do about a failed sendto(2) on a raw socket.
 *
 * @param err		errno of the failure
 * @return			hint, or NULL
 */
static const char *send_hint(int err)
{
	switch (err)
	{
		case EMSGSIZE:
			return "The packet is larger than the MTU of the route; "
				   "fragment it or lower the MTU.";
		case ENETUNREACH:
		case EHOSTUNREACH:
			return "Add a route to the destination (ip route).";
		case EPERM:
			return "A firewall rule rejected the packet (check nft/iptables).";
		case EACCES:
			return "Sending to a broadcast address is not allowed.";
		default:
			return NULL;
	}
}

/**
 * Count a packet the kernel accepted.
 *
 * @param handle	handle that sent the packet
 * @param length	packet length
 * @param result	receives true
 */
static void count_sent(packet_handle_t *handle, size_t length,
					   napi_value *result)
{
	handle->stats.packets_sent++;
	handle->stats.bytes_sent += length;
	napi_get_boolean(handle->env, true, result);
}

/**
 * Count a packet dropped because the kernel queue was full.
 *
 * @param handle	handle that dropped the packet
 * @param result	receives false
 */
static void count_drop(packet_handle_t *handle, napi_value *result)
{
	handle->stats.send_drops++;
	napi_get_boolean(handle->env, false, result);
}

/*
 * Described in header
 */
napi_value packet_handle_write(napi_env env, napi_callback_info info)
{
	packet_handle_t *handle;
	napi_value argv[1], result = NULL;
	size_t argc = 1, length;
	ssize_t written;
	void *data;
	int err;

	handle = packet_handle_this(env, info, &argc, argv);
	if (!handle || !packet_handle_check_open(env, handle))
	{
		return NULL;
	}
	if (handle->type != PACKET_HANDLE_TUN)
	{
		lupina_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
					"write() is for TUN devices, raw sockets use sendTo()");
		return NULL;
	}
	if (argc < 1 || !get_bytes(env, argv[0], &data, &length))
	{
		return NULL;
	}

	do
	{
		written = write(handle->fd, data, length);
	}
	while (written < 0 && errno == EINTR);
	err = written < 0 ? errno : 0;

	if (written >= 0)
	{
		count_sent(handle, length, &result);
	}
	else if (is_queue_full(err))
	{
		count_drop(handle, &result);
	}
	else
	{
		lupina_throw_errno(env, err, "write", write_hint(err),
						   "Writing a packet of %zu bytes to the %s failed",
						   length, handle->label);
	}
	return result;
}

/*
 * Described in header
 */
napi_value packet_handle_send_to(napi_env env, napi_callback_info info)
{
	struct sockaddr_storage destination;
	socklen_t destination_length;
	packet_handle_t *handle;
	napi_value argv[2], result = NULL;
	size_t argc = 2, length;
	ssize_t sent;
	void *data;
	int err;

	handle = packet_handle_this(env, info, &argc, argv);
	if (!handle || !packet_handle_check_open(env, handle))
	{
		return NULL;
	}
	if (handle->type != PACKET_HANDLE_RAW)
	{
		lupina_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
					"sendTo() is for raw sockets, TUN devices use write()");
		return NULL;
	}
	if (argc < 2)
	{
		lupina_throw_type_error(env, "ERR_MISSING_ARGS",
					"sendTo() needs a packet and a destination address");
		return NULL;
	}
	if (!get_bytes(env, argv[0], &data, &length) ||
		address_from_value(env, argv[1], handle->family, "destination",
						   &destination, &destination_length) != 0)
	{
		return NULL;
	}

	do
	{
		sent = sendto(handle->fd, data, length, 0,
					  (struct sockaddr*)&destination, destination_length);
	}
	while (sent < 0 && errno == EINTR);
	err = sent < 0 ? errno : 0;

	if (sent >= 0)
	{
		count_sent(handle, length, &result);
	}
	else if (is_queue_full(err))
	{
		count_drop(handle, &result);
	}
	else
	{
		lupina_throw_errno(env, err, "sendto", send_hint(err),
						   "Sending a packet of %zu bytes on the %s failed",
						   length, handle->label);
	}
	return result;
}
