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
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/uio.h>

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

/**
 * Write one packet to a TUN device, after an empty virtio header if the
 * device has one.
 *
 * @param handle	TUN handle
 * @param data		the packet
 * @param length	its length
 * @return			0, or the errno of the failure
 */
static int write_packet(packet_handle_t *handle, const void *data,
						size_t length)
{
	static const uint8_t empty_header[TUN_OFFLOAD_HEADER_SIZE];
	struct iovec iov[2] = {
		{ .iov_base = (void*)empty_header, .iov_len = sizeof(empty_header) },
		{ .iov_base = (void*)data, .iov_len = length },
	};
	ssize_t written;

	do
	{
		if (handle->vnet_header)
		{
			written = writev(handle->fd, iov, 2);
		}
		else
		{
			written = write(handle->fd, data, length);
		}
	}
	while (written < 0 && errno == EINTR);
	return written < 0 ? errno : 0;
}

/**
 * Write a frame that tun_offload_merge() built, virtio header included.
 *
 * @param handle	TUN handle with a virtio header
 * @param length	frame length in handle->frame
 * @return			0, or the errno of the failure
 */
static int write_frame(packet_handle_t *handle, size_t length)
{
	ssize_t written;

	do
	{
		written = write(handle->fd, handle->frame, length);
	}
	while (written < 0 && errno == EINTR);
	return written < 0 ? errno : 0;
}

/**
 * Check that a method is called on an open TUN device.
 *
 * @param env		N-API environment
 * @param handle	handle of the call, NULL if none
 * @param method	name of the method, for the message
 * @return			true if so, false if an exception is pending
 */
static bool check_tun(napi_env env, packet_handle_t *handle,
					  const char *method)
{
	if (!handle || !packet_handle_check_open(env, handle))
	{
		return false;
	}
	if (handle->type != PACKET_HANDLE_TUN)
	{
		lupina_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
					"%s() is for TUN devices, raw sockets use sendTo()",
					method);
		return false;
	}
	return true;
}

/*
 * Described in header
 */
napi_value packet_handle_write(napi_env env, napi_callback_info info)
{
	packet_handle_t *handle;
	napi_value argv[1], result = NULL;
	size_t argc = 1, length;
	void *data;
	int err;

	handle = packet_handle_this(env, info, &argc, argv);
	if (!check_tun(env, handle, "write"))
	{
		return NULL;
	}
	if (argc < 1 || !lupina_get_packet(env, argv[0], &data, &length))
	{
		return NULL;
	}

	err = write_packet(handle, data, length);

	if (!err)
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
	if (!lupina_get_packet(env, argv[0], &data, &length) ||
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

/** Packets of a writeBatch() array looked at together */
#define WRITE_BATCH_WINDOW 256

/**
 * Count the result of one write(2) that carried one or more packets.
 *
 * @param handle	TUN handle
 * @param err		0, or the errno of the failure
 * @param packets	number of packets written
 * @param bytes		their length
 * @return			packets the kernel took
 */
static uint32_t count_write(packet_handle_t *handle, int err, size_t packets,
							size_t bytes)
{
	if (!err)
	{
		handle->stats.packets_sent += packets;
		handle->stats.bytes_sent += bytes;
		return (uint32_t)packets;
	}
	if (is_queue_full(err))
	{
		handle->stats.send_drops += packets;
	}
	else
	{
		handle->stats.send_errors += packets;
	}
	return 0;
}

/**
 * Write one group from tun_offload_group(): the packet alone, or merged.
 *
 * @param handle	TUN handle
 * @param packets	the group
 * @param count		its size
 * @return			packets the kernel took
 */
static uint32_t write_group(packet_handle_t *handle,
							const tun_packet_t *packets, size_t count)
{
	size_t bytes = 0, i;
	int err;

	for (i = 0; i < count; i++)
	{
		bytes += packets[i].length;
	}
	if (count == 1)
	{
		return count_write(handle, write_packet(handle, packets[0].data,
												packets[0].length), 1, bytes);
	}

	tun_offload_merge(packets, count, handle->frame);
	err = write_frame(handle, tun_offload_merged_length(packets, count));
	if (!err)
	{
		handle->stats.offload_merged += count;
	}
	return count_write(handle, err, count, bytes);
}

/**
 * Write a window of packets, merging TCP segments where the device has a
 * virtio header.
 *
 * @param handle	TUN handle
 * @param packets	the packets, in order
 * @param count		their number
 * @return			packets the kernel took
 */
static uint32_t write_window(packet_handle_t *handle,
							 const tun_packet_t *packets, size_t count)
{
	uint32_t written = 0;
	size_t i = 0, group;

	while (i < count)
	{
		group = handle->vnet_header ? tun_offload_group(packets + i, count - i)
									: 1;
		written += write_group(handle, packets + i, group);
		i += group;
	}
	return written;
}

/*
 * Described in header
 */
napi_value packet_handle_write_batch(napi_env env, napi_callback_info info)
{
	tun_packet_t window[WRITE_BATCH_WINDOW];
	napi_value elements[WRITE_BATCH_WINDOW];
	packet_handle_t *handle;
	napi_value argv[1], result = NULL;
	uint32_t total, start, count, i, written = 0;
	size_t argc = 1;
	bool is_array = false;
	void *data;

	handle = packet_handle_this(env, info, &argc, argv);
	if (!check_tun(env, handle, "writeBatch"))
	{
		return NULL;
	}
	if (argc < 1 || napi_is_array(env, argv[0], &is_array) != napi_ok ||
		!is_array || napi_get_array_length(env, argv[0], &total) != napi_ok)
	{
		lupina_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
					"writeBatch() needs an array of Uint8Arrays");
		return NULL;
	}

	for (start = 0; start < total; start += count)
	{
		count = total - start < WRITE_BATCH_WINDOW ? total - start
												   : WRITE_BATCH_WINDOW;
		/* a getter on the array may run JavaScript that resizes or detaches
		 * a buffer, so every element is fetched before any pointer is taken */
		for (i = 0; i < count; i++)
		{
			if (napi_get_element(env, argv[0], start + i, &elements[i]) != napi_ok)
			{
				return NULL;
			}
		}
		for (i = 0; i < count; i++)
		{
			if (!lupina_get_packet(env, elements[i], &data, &window[i].length))
			{
				return NULL;
			}
			window[i].data = data;
		}
		written += write_window(handle, window, count);
	}

	napi_create_uint32(env, written, &result);
	return result;
}
