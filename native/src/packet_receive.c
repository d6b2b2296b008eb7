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
 * Result of reading one packet.
 */
typedef enum {
	/** a packet is in the buffer */
	RECEIVE_PACKET,
	/** nothing to read, or a transient failure: try again later */
	RECEIVE_EMPTY,
	/** a failure that was counted, read on */
	RECEIVE_SKIPPED,
	/** a failure that stops reading */
	RECEIVE_FAILED,
} receive_result_t;

/**
 * Classify a failed read.
 *
 * ICMP errors queued on a raw socket and a short memory shortage fail
 * a single read only, so they are counted and reading goes on.
 *
 * @param handle	handle that failed to read
 * @param err		errno of the failure
 * @return			RECEIVE_EMPTY, RECEIVE_SKIPPED or RECEIVE_FAILED
 */
static receive_result_t classify_failure(packet_handle_t *handle, int err)
{
	switch (err)
	{
		case EAGAIN:
#if EWOULDBLOCK != EAGAIN
		case EWOULDBLOCK:
#endif
			return RECEIVE_EMPTY;
		case EINTR:
			return RECEIVE_SKIPPED;
		case ENOBUFS:
		case ENOMEM:
		case ECONNREFUSED:
		case EHOSTUNREACH:
		case ENETUNREACH:
		case EMSGSIZE:
			handle->stats.receive_errors++;
			return RECEIVE_SKIPPED;
		default:
			handle->stats.receive_errors++;
			return RECEIVE_FAILED;
	}
}

/**
 * Read one packet into the buffer of the handle.
 *
 * @param handle	handle to read from
 * @param length	receives the packet length
 * @param source	receives the source address (raw sockets only)
 * @param err		receives errno if the result is RECEIVE_FAILED
 * @return			what the read produced
 */
static receive_result_t receive_one(packet_handle_t *handle, size_t *length,
									struct sockaddr_storage *source, int *err)
{
	socklen_t source_length = sizeof(*source);
	ssize_t len;

	if (handle->type == PACKET_HANDLE_TUN)
	{
		/* one read(2) returns one packet, at most the MTU (max. 65535) */
		len = read(handle->fd, handle->buffer, sizeof(handle->buffer));
	}
	else
	{
		/* MSG_TRUNC makes the result the full length of the datagram */
		len = recvfrom(handle->fd, handle->buffer, sizeof(handle->buffer),
					   MSG_TRUNC, (struct sockaddr*)source, &source_length);
	}
	if (len < 0)
	{
		*err = errno;
		return classify_failure(handle, errno);
	}
	if ((size_t)len >= sizeof(handle->buffer))
	{
		handle->stats.receive_truncated++;
		return RECEIVE_SKIPPED;
	}
	*length = (size_t)len;
	return RECEIVE_PACKET;
}

/**
 * Create the JavaScript value for the packet in the buffer: a Buffer for
 * a TUN device, { data: Buffer, source: string } for a raw socket.
 *
 * @param handle	handle that read the packet
 * @param length	packet length
 * @param source	source address (raw sockets only)
 * @param value		receives the value
 * @return			napi_ok, or the status of the failed N-API call
 */
static napi_status packet_value(packet_handle_t *handle, size_t length,
								const struct sockaddr_storage *source,
								napi_value *value)
{
	char text[ADDRESS_TEXT_SIZE] = "";
	napi_value data, address;
	napi_status status;

	status = napi_create_buffer_copy(handle->env, length, handle->buffer,
									 NULL, &data);
	if (status != napi_ok || handle->type == PACKET_HANDLE_TUN)
	{
		*value = data;
		return status;
	}

	address_format(source, text, sizeof(text));
	status = napi_create_object(handle->env, value);
	if (status == napi_ok)
	{
		status = napi_set_named_property(handle->env, *value, "data", data);
	}
	if (status == napi_ok)
	{
		status = napi_create_string_utf8(handle->env, text, NAPI_AUTO_LENGTH,
										 &address);
	}
	if (status == napi_ok)
	{
		status = napi_set_named_property(handle->env, *value, "source",
										 address);
	}
	return status;
}

/**
 * Call a JavaScript callback of the handle from libuv.
 *
 * An exception thrown by the callback goes to process 'uncaughtException'
 * handling, as for any other callback from the event loop.
 *
 * @param handle	handle whose callback to call
 * @param callback	reference to the function
 * @param argument	single argument
 */
static void call_js(packet_handle_t *handle, napi_ref callback,
					napi_value argument)
{
	napi_env env = handle->env;
	napi_value function, receiver, exception;
	napi_status status;

	if (napi_get_reference_value(env, callback, &function) != napi_ok ||
		napi_get_global(env, &receiver) != napi_ok)
	{
		return;
	}
	status = napi_make_callback(env, handle->async_context, receiver,
								function, 1, &argument, NULL);
	if (status == napi_pending_exception &&
		napi_get_and_clear_last_exception(env, &exception) == napi_ok)
	{
		napi_fatal_exception(env, exception);
	}
}

/**
 * Find the cause of a poll error, which libuv reports as UV_EBADF for any
 * POLLERR: a TUN device detached from its deleted interface fails reads
 * with EBADFD, and a socket keeps the cause in SO_ERROR.
 *
 * @param handle	handle whose poll failed
 * @param status	negative libuv error code given to the poll callback
 * @return			errno of the cause
 */
static int poll_failure_errno(packet_handle_t *handle, int status)
{
	socklen_t length = sizeof(int);
	int err = 0;

	if (status != UV_EBADF)
	{
		return -status;
	}
	if (handle->type == PACKET_HANDLE_TUN)
	{
		if (read(handle->fd, handle->buffer, sizeof(handle->buffer)) < 0 &&
			errno != EAGAIN && errno != EWOULDBLOCK)
		{
			err = errno;
		}
	}
	else if (getsockopt(handle->fd, SOL_SOCKET, SO_ERROR, &err,
						&length) != 0)
	{
		err = 0;
	}
	return err ? err : -status;
}

/**
 * Stop reading and pass an Error to onError.
 *
 * @param handle	handle that failed
 * @param err		errno of the failure
 * @param syscall	name of the failed call
 */
static void fail(packet_handle_t *handle, int err, const char *syscall)
{
	napi_ref on_error;
	napi_value error;

	error = lupina_errno_error(handle->env, err, syscall,
							   err == EBADFD ?
							   "The interface was deleted; close this device "
							   "and open a new one." :
							   "Reading stopped; close and reopen it.",
							   "Reading from the %s failed", handle->label);

	/* stop_reading() may drop the last reference, keep onError alive */
	on_error = handle->on_error;
	handle->on_error = NULL;
	packet_handle_stop_reading(handle);
	if (error && on_error)
	{
		call_js(handle, on_error, error);
	}
	if (on_error)
	{
		napi_delete_reference(handle->env, on_error);
	}
}

/**
 * Read up to PACKET_HANDLE_BATCH_LIMIT packets and pass them to onPackets.
 *
 * @param handle	reading handle
 */
static void drain(packet_handle_t *handle)
{
	struct sockaddr_storage source;
	receive_result_t result = RECEIVE_EMPTY;
	napi_value packets, value;
	uint32_t count = 0;
	size_t length = 0;
	int attempt, err = 0;

	if (napi_create_array(handle->env, &packets) != napi_ok)
	{
		return;
	}
	for (attempt = 0; attempt < PACKET_HANDLE_BATCH_LIMIT; attempt++)
	{
		result = receive_one(handle, &length, &source, &err);
		if (result == RECEIVE_EMPTY || result == RECEIVE_FAILED)
		{
			break;
		}
		if (result == RECEIVE_SKIPPED)
		{
			continue;
		}
		if (packet_value(handle, length, &source, &value) != napi_ok ||
			napi_set_element(handle->env, packets, count, value) != napi_ok)
		{
			break;
		}
		count++;
		handle->stats.packets_received++;
		handle->stats.bytes_received += length;
	}

	if (count > 0)
	{
		handle->stats.batches++;
		call_js(handle, handle->on_packets, packets);
	}

	/* onPackets may have closed the handle */
	if (result == RECEIVE_FAILED && handle->reading)
	{
		fail(handle, err, handle->type == PACKET_HANDLE_TUN ? "read"
															: "recvfrom");
	}
}

/*
 * Described in header
 */
void packet_handle_on_poll(uv_poll_t *poll, int status, int events)
{
	packet_handle_t *handle = poll->data;
	napi_handle_scope scope;

	(void)events;

	if (!handle->reading || handle->env_gone ||
		napi_open_handle_scope(handle->env, &scope) != napi_ok)
	{
		return;
	}
	if (status < 0)
	{
		/* libuv already stopped the poll handle */
		fail(handle, poll_failure_errno(handle, status), "poll");
	}
	else
	{
		drain(handle);
	}
	napi_close_handle_scope(handle->env, scope);
}
