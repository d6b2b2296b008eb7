/*
 * Copyright (C) 2025 The Lupina authors
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 3 of the License, or (at your
 * option) any later version.
 */

/**
 * @defgroup packet_handle_priv packet_handle_priv
 * State of a PacketHandle shared by its lifecycle, receive and send code.
 *
 * @{ @ingroup packet_handle
 */

#ifndef LUPINA_PACKET_HANDLE_PRIV_H_
#define LUPINA_PACKET_HANDLE_PRIV_H_

#include "packet_handle.h"
#include "tun_offload.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

/**
 * Receive buffer size: the largest IPv4 packet or IPv6 payload without
 * jumbograms is 65535 bytes, a TUN device may put a virtio header before
 * it, and the extra byte lets a read show that a packet did not fit.
 */
#define PACKET_HANDLE_BUFFER_SIZE (65536 + TUN_OFFLOAD_HEADER_SIZE)

/**
 * Bytes read at one wake-up after which reading stops until the next one.
 * A TUN device with offload delivers TCP packets of up to 64 KiB, and 64
 * of them would pile up megabytes of buffers in one turn of the event loop.
 */
#define PACKET_HANDLE_WAKE_BYTES (256 * 1024)

/** Size of the buffer for one merged packet and its virtio header */
#define PACKET_HANDLE_FRAME_SIZE (65535 + TUN_OFFLOAD_HEADER_SIZE)

/** Maximum length of a handle label, including the NUL */
#define PACKET_HANDLE_LABEL_SIZE 64

/**
 * Counters of a PacketHandle, returned to JavaScript by stats().
 */
typedef struct {
	/** packets passed to onPackets */
	uint64_t packets_received;
	/** bytes in those packets */
	uint64_t bytes_received;
	/** packets accepted by write(2) or sendto(2) */
	uint64_t packets_sent;
	/** bytes in those packets */
	uint64_t bytes_sent;
	/** packets dropped because the kernel queue was full */
	uint64_t send_drops;
	/** failed reads other than EAGAIN and EINTR, and packets read but lost
	 *  because memory ran out */
	uint64_t receive_errors;
	/** packets dropped because they were larger than the buffer */
	uint64_t receive_truncated;
	/** wake-ups that called onPackets */
	uint64_t batches;
	/** packets that write(2) rejected for another reason than a full queue */
	uint64_t send_errors;
	/** large TCP packets read from the device and split into segments */
	uint64_t offload_splits;
	/** packets written as part of a merged TCP packet */
	uint64_t offload_merged;
	/** frames dropped because their virtio header was not usable */
	uint64_t offload_errors;
} packet_stats_t;

/**
 * State of the libuv poll handle, which outlives close() until libuv
 * calls the close callback.
 */
typedef enum {
	/** uv_poll_init() not called yet */
	POLL_NONE,
	/** initialized, may be started or stopped */
	POLL_OPEN,
	/** uv_close() called, close callback pending */
	POLL_CLOSING,
	/** close callback ran */
	POLL_CLOSED,
} poll_state_t;

typedef struct packet_handle_t packet_handle_t;

/**
 * Native state of one PacketHandle.
 *
 * It is freed when the JavaScript object is finalized and the poll handle
 * is not open or closing any more, whichever comes last.
 */
struct packet_handle_t {
	/** environment the handle belongs to */
	napi_env env;
	/** kind of descriptor */
	packet_handle_type_t type;
	/** TUN only: every packet read or written starts with a virtio header */
	bool vnet_header;
	/** AF_INET or AF_INET6 for raw sockets */
	int family;
	/** the descriptor, -1 once closed */
	int fd;
	/** what fd is, for messages */
	char label[PACKET_HANDLE_LABEL_SIZE];
	/** readiness watcher of fd */
	uv_poll_t poll;
	/** state of poll */
	poll_state_t poll_state;
	/** whether poll is started and onPackets set */
	bool reading;
	/** whether reading keeps the event loop alive, see ref()/unref() */
	bool referenced;
	/** whether the JavaScript object was finalized */
	bool finalized;
	/** whether the environment is being torn down, so no N-API calls */
	bool env_gone;
	/** strong reference to the JavaScript object while reading */
	napi_ref self;
	/** onPackets callback */
	napi_ref on_packets;
	/** onError callback */
	napi_ref on_error;
	/** async context for napi_make_callback(), NULL before start() */
	napi_async_context async_context;
	/** hook that closes fd when the environment exits, NULL if removed */
	napi_async_cleanup_hook_handle cleanup_hook;
	/** counters */
	packet_stats_t stats;
	/** receive buffer */
	uint8_t buffer[PACKET_HANDLE_BUFFER_SIZE];
	/** chunk that the next batch of received packets is copied into */
	uint8_t *staging;
	/** buffer for a merged packet written by writeBatch() */
	uint8_t frame[PACKET_HANDLE_FRAME_SIZE];
};

/**
 * Get the handle of the object a method was called on, with its arguments.
 *
 * Throws a TypeError if this is no PacketHandle.
 *
 * @param env		N-API environment
 * @param info		callback info of the method
 * @param argc		in: size of argv, out: number of arguments given
 * @param argv		receives the arguments
 * @return			the handle, NULL if an exception is pending
 */
packet_handle_t *packet_handle_this(napi_env env, napi_callback_info info,
									size_t *argc, napi_value *argv);

/**
 * Throw an Error with code ERR_LUPINA_CLOSED if the handle is closed.
 *
 * @param env		N-API environment
 * @param handle	handle to check
 * @return			true if the handle is open
 */
bool packet_handle_check_open(napi_env env, packet_handle_t *handle);

/**
 * Stop polling and drop the strong reference to the JavaScript object,
 * keeping fd open. Does nothing if the handle is not reading.
 *
 * @param handle	handle to stop
 */
void packet_handle_stop_reading(packet_handle_t *handle);

/**
 * libuv poll callback: read a batch of packets and pass them to onPackets.
 *
 * @param poll		poll handle of a packet_handle_t
 * @param status	0, or a negative libuv error code
 * @param events	UV_READABLE
 */
void packet_handle_on_poll(uv_poll_t *poll, int status, int events);

/**
 * JavaScript method write(packet): write one packet to a TUN device.
 *
 * @param env		N-API environment
 * @param info		callback info, the packet is a Uint8Array
 * @return			true if written, false if dropped, NULL on exception
 */
napi_value packet_handle_write(napi_env env, napi_callback_info info);

/**
 * JavaScript method writeBatch(packets): write packets to a TUN device,
 * merging TCP segments if the device has a virtio header. A packet the
 * kernel rejects is counted (send_drops or send_errors), never thrown.
 *
 * @param env		N-API environment
 * @param info		callback info, an array of Uint8Arrays
 * @return			number of packets written, NULL on exception
 */
napi_value packet_handle_write_batch(napi_env env, napi_callback_info info);

/**
 * JavaScript method sendTo(packet, destination): send one packet on a raw
 * socket to a numeric address of the socket's family.
 *
 * @param env		N-API environment
 * @param info		callback info, with a Uint8Array and a string
 * @return			true if sent, false if dropped, NULL on exception
 */
napi_value packet_handle_send_to(napi_env env, napi_callback_info info);

#endif /** LUPINA_PACKET_HANDLE_PRIV_H_ @}*/
