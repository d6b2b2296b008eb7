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
#include "chunk_pool.h"
#include "errors.h"

#include <errno.h>
#include <string.h>
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
 * Call a JavaScript callback of the handle from libuv.
 *
 * An exception thrown by the callback goes to process 'uncaughtException'
 * handling, as for any other callback from the event loop.
 *
 * @param handle	handle whose callback to call
 * @param callback	reference to the function
 * @param argc		number of arguments
 * @param argv		arguments
 */
static void call_js(packet_handle_t *handle, napi_ref callback, size_t argc,
					const napi_value *argv)
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
								function, argc, argv, NULL);
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
		call_js(handle, on_error, 1, &error);
	}
	if (on_error)
	{
		napi_delete_reference(handle->env, on_error);
	}
}

/**
 * Packets read at one wake-up, waiting to go to onPackets. They lie one
 * after the other in the handle's staging chunk, and go to JavaScript in
 * one Buffer (see chunk_pool.h), which JavaScript cuts into views.
 */
typedef struct {
	/** handle that reads */
	packet_handle_t *handle;
	/** whether the arrays exist and packets may be added */
	bool started;
	/** bytes used in handle->staging */
	size_t used;
	/** array of the packet lengths */
	napi_value lengths;
	/** raw sockets: array of the source addresses, as strings */
	napi_value sources;
	/** packets in the batch */
	uint32_t count;
	/** raw sockets: the last source address and its string, for reuse */
	struct sockaddr_storage last_source;
	napi_value last_text;
} batch_t;

/**
 * Pass the packets of the batch to onPackets(chunk, lengths, sources).
 * The next packet starts a new batch.
 *
 * @param batch		the batch
 */
static void flush(batch_t *batch)
{
	packet_handle_t *handle = batch->handle;
	napi_value argv[3];
	bool handed_over;

	if (!batch->started)
	{
		return;
	}
	batch->started = false;
	if (batch->count == 0)
	{
		return;
	}
	if (chunk_pool_buffer(handle->env, handle->staging, batch->used, &argv[0],
						  &handed_over) != napi_ok)
	{
		/* the packets were counted as received, so count their loss */
		handle->stats.receive_errors += batch->count;
		return;
	}
	if (handed_over)
	{
		handle->staging = NULL;
	}
	argv[1] = batch->lengths;
	argv[2] = batch->sources;
	handle->stats.batches++;
	call_js(handle, handle->on_packets, 3, argv);
}

/**
 * Start a batch: a staging chunk for the handle and the arrays.
 *
 * @param batch		the batch, not started
 * @return			true on success, false if out of memory
 */
static bool start_batch(batch_t *batch)
{
	packet_handle_t *handle = batch->handle;
	napi_env env = handle->env;

	if (!handle->staging)
	{
		handle->staging = chunk_pool_take();
	}
	if (!handle->staging ||
		napi_create_array(env, &batch->lengths) != napi_ok ||
		(handle->type == PACKET_HANDLE_TUN ?
		 napi_get_undefined(env, &batch->sources) :
		 napi_create_array(env, &batch->sources)) != napi_ok)
	{
		return false;
	}
	batch->used = 0;
	batch->count = 0;
	batch->started = true;
	return true;
}

/**
 * Make room for needed bytes: flush a batch that has too little room left,
 * and start one if there is none.
 *
 * @param batch		the batch
 * @param needed	bytes of the next packets, at most CHUNK_POOL_CHUNK_SIZE
 * @return			true if there is room, false to stop reading
 */
static bool reserve(batch_t *batch, size_t needed)
{
	packet_handle_t *handle = batch->handle;

	if (batch->started && CHUNK_POOL_CHUNK_SIZE - batch->used < needed)
	{
		flush(batch);
		/* onPackets may have closed the handle */
		if (!handle->reading)
		{
			return false;
		}
	}
	return batch->started || start_batch(batch);
}

/**
 * The string of a source address, reusing the previous one if the
 * address is the same.
 *
 * @param batch		the batch
 * @param source	source address of a raw socket packet
 * @param text		receives the string
 * @return			napi_ok, or the status of the failed N-API call
 */
static napi_status source_text(batch_t *batch,
							   const struct sockaddr_storage *source,
							   napi_value *text)
{
	char formatted[ADDRESS_TEXT_SIZE] = "";
	napi_status status;

	if (batch->last_text &&
		memcmp(&batch->last_source, source, sizeof(*source)) == 0)
	{
		*text = batch->last_text;
		return napi_ok;
	}
	address_format(source, formatted, sizeof(formatted));
	status = napi_create_string_utf8(batch->handle->env, formatted,
									 NAPI_AUTO_LENGTH, text);
	if (status == napi_ok)
	{
		batch->last_source = *source;
		batch->last_text = *text;
	}
	return status;
}

/**
 * Record a packet that was just written at the end of the chunk.
 *
 * @param batch		the batch
 * @param length	packet length
 * @param source	raw sockets: source address, NULL for TUN devices
 * @return			napi_ok, or the status of the failed N-API call
 */
static napi_status add_packet(batch_t *batch, size_t length,
							  const struct sockaddr_storage *source)
{
	napi_env env = batch->handle->env;
	napi_value value, text;
	napi_status status;

	status = napi_create_uint32(env, (uint32_t)length, &value);
	if (status == napi_ok)
	{
		status = napi_set_element(env, batch->lengths, batch->count, value);
	}
	if (status == napi_ok && source)
	{
		status = source_text(batch, source, &text);
		if (status == napi_ok)
		{
			status = napi_set_element(env, batch->sources, batch->count, text);
		}
	}
	if (status == napi_ok)
	{
		batch->used += length;
		batch->count++;
		batch->handle->stats.packets_received++;
		batch->handle->stats.bytes_received += length;
	}
	return status;
}

/**
 * Count packets that were read but cannot be passed on, because memory
 * ran out. Nothing is counted once the handle stopped reading.
 *
 * @param handle	reading handle
 * @param packets	number of packets lost
 */
static void count_lost(packet_handle_t *handle, size_t packets)
{
	if (handle->reading)
	{
		handle->stats.receive_errors += packets;
	}
}

/**
 * Add the packet in the receive buffer to the batch.
 *
 * @param batch		the batch
 * @param length	packet length
 * @param source	source address (raw sockets only)
 * @return			true to read on, false to stop
 */
static bool add_received(batch_t *batch, size_t length,
						 const struct sockaddr_storage *source)
{
	packet_handle_t *handle = batch->handle;

	if (!reserve(batch, length))
	{
		count_lost(handle, 1);
		return false;
	}
	memcpy(handle->staging + batch->used, handle->buffer, length);
	if (add_packet(batch, length,
				   handle->type == PACKET_HANDLE_RAW ? source : NULL) != napi_ok)
	{
		count_lost(handle, 1);
		return false;
	}
	return true;
}

/**
 * Add the packets of a frame read from a TUN device with a virtio header:
 * one packet, or the segments of a large TCP packet. A frame with an
 * unusable header is counted and dropped.
 *
 * @param batch		the batch
 * @param length	frame length in the receive buffer
 * @return			true to read on, false to stop
 */
static bool add_frame(batch_t *batch, size_t length)
{
	packet_handle_t *handle = batch->handle;
	tun_split_t split;
	size_t index, total = 0, segment;

	if (tun_offload_split_plan(handle->buffer, length, &split) !=
		TUN_OFFLOAD_OK)
	{
		handle->stats.offload_errors++;
		return true;
	}
	for (index = 0; index < split.count; index++)
	{
		total += tun_offload_segment_length(&split, index);
	}
	if (total > CHUNK_POOL_CHUNK_SIZE || !reserve(batch, total))
	{
		count_lost(handle, split.count);
		return false;
	}

	if (split.count > 1)
	{
		handle->stats.offload_splits++;
	}
	for (index = 0; index < split.count; index++)
	{
		segment = tun_offload_segment_length(&split, index);
		tun_offload_segment_build(&split, index, handle->staging + batch->used);
		if (add_packet(batch, segment, NULL) != napi_ok)
		{
			count_lost(handle, split.count - index);
			return false;
		}
	}
	return true;
}

/**
 * Read up to PACKET_HANDLE_BATCH_LIMIT packets, or until
 * PACKET_HANDLE_WAKE_BYTES were read, and pass them to onPackets. A TUN
 * device with a virtio header may give more packets: a large TCP packet
 * counts as one read and becomes many segments.
 *
 * @param handle	reading handle
 */
static void drain(packet_handle_t *handle)
{
	/* zeroed, because source_text() compares whole structures and
	 * recvfrom() fills only the part of the address family */
	struct sockaddr_storage source = { 0 };
	receive_result_t result = RECEIVE_EMPTY;
	batch_t batch = { .handle = handle };
	size_t length = 0, bytes = 0;
	int attempt, err = 0;
	bool more = true;

	for (attempt = 0; attempt < PACKET_HANDLE_BATCH_LIMIT && more &&
		 bytes < PACKET_HANDLE_WAKE_BYTES; attempt++)
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
		bytes += length;
		more = handle->vnet_header ? add_frame(&batch, length)
								   : add_received(&batch, length, &source);
	}

	if (handle->reading)
	{
		flush(&batch);
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
