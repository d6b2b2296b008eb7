/*
 * Copyright (C) 2025 The Lupina authors
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 3 of the License, or (at your
 * option) any later version.
 */

/**
 * @defgroup packet_handle packet_handle
 * JavaScript object that owns a non-blocking packet file descriptor.
 *
 * A PacketHandle wraps a TUN device or a raw IP socket. Its JavaScript
 * methods are:
 *
 * - start(onPackets, onError): poll the descriptor with libuv. Each
 *   wake-up reads up to PACKET_HANDLE_BATCH_LIMIT packets and calls
 *   onPackets(chunk, lengths, sources): the packets lie one after the other
 *   in the Buffer chunk, lengths is an array of their lengths, and sources
 *   an array of their source addresses as strings (raw sockets) or
 *   undefined (TUN devices). A wake-up whose packets do not fit one chunk
 *   calls onPackets more than once. onError gets an Error when
 *   reading failed and stopped. Calling start() again replaces both
 *   callbacks.
 * - write(packet): TUN only, write(2) of one Uint8Array.
 * - writeBatch(packets): TUN only, write an array of Uint8Arrays, merging
 *   consecutive segments of one TCP stream when the device has a virtio
 *   header (see tun_offload.h). Returns how many packets the kernel took.
 * - sendTo(packet, destination): raw sockets only, sendto(2).
 *   write() and sendTo() return false and count a drop if the kernel
 *   queue is full (EAGAIN or ENOBUFS), and throw for any other failure.
 * - close(): stop polling and close the descriptor; later calls do nothing.
 * - ref(), unref(): whether reading keeps the event loop alive.
 * - stats(): counters, see packet_stats_t.
 *
 * @{ @ingroup lupina_native
 */

#ifndef LUPINA_PACKET_HANDLE_H_
#define LUPINA_PACKET_HANDLE_H_

#include <node_api.h>
#include <stdbool.h>

/** Packets read per wake-up before the event loop gets to run again */
#define PACKET_HANDLE_BATCH_LIMIT 64

/**
 * Kind of descriptor a PacketHandle owns.
 */
typedef enum {
	/** TUN device opened with IFF_TUN | IFF_NO_PI, read(2)/write(2) */
	PACKET_HANDLE_TUN,
	/** raw IP socket, recvfrom(2)/sendto(2) */
	PACKET_HANDLE_RAW,
} packet_handle_type_t;

/**
 * Define the PacketHandle class and remember its constructor.
 *
 * Must run once per environment, before packet_handle_new().
 *
 * @param env		N-API environment
 * @return			napi_ok, or the status of the failed N-API call
 */
napi_status packet_handle_init(napi_env env);

/**
 * Create a PacketHandle that owns a file descriptor.
 *
 * The handle takes ownership of fd in every case: if creating the object
 * fails, fd is closed and an exception is pending.
 *
 * @param env		N-API environment
 * @param type		kind of descriptor
 * @param family	AF_INET or AF_INET6 for raw sockets, ignored for TUN
 * @param fd		non-blocking descriptor
 * @param label		what fd is, for messages ("TUN device lupina0")
 * @param vnet_header	TUN only: fd was opened with IFF_VNET_HDR
 * @return			the new PacketHandle, NULL on failure
 */
napi_value packet_handle_new(napi_env env, packet_handle_type_t type,
							 int family, int fd, const char *label,
							 bool vnet_header);

#endif /** LUPINA_PACKET_HANDLE_H_ @}*/
