/*
 * Copyright (C) 2026 The Lupina authors
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 3 of the License, or (at your
 * option) any later version.
 */

#include "rtnetlink.h"
#include "errors.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/time.h>

/** Size of one receive; the kernel splits dumps into messages of at most this */
#define RECEIVE_CHUNK (64 * 1024)

/** Largest reply collected, so a huge routing table cannot exhaust memory */
#define REPLY_LIMIT (64 * 1024 * 1024)

/** How long to wait for the kernel, in seconds */
#define RECEIVE_TIMEOUT_SECONDS 5

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif

/**
 * A growing buffer for the kernel's reply.
 */
typedef struct {
	uint8_t *data;
	size_t length;
	size_t capacity;
} reply_t;

/**
 * Append bytes to the reply.
 *
 * @param reply	reply to grow
 * @param bytes		bytes to append
 * @param length	number of bytes
 * @return			0 on success, an errno value on failure
 */
static int reply_append(reply_t *reply, const uint8_t *bytes, size_t length)
{
	size_t capacity = reply->capacity ? reply->capacity : RECEIVE_CHUNK;
	uint8_t *grown;

	if (reply->length + length > REPLY_LIMIT)
	{
		return EMSGSIZE;
	}
	while (capacity < reply->length + length)
	{
		capacity *= 2;
	}
	if (capacity != reply->capacity)
	{
		grown = realloc(reply->data, capacity);
		if (!grown)
		{
			return ENOMEM;
		}
		reply->data = grown;
		reply->capacity = capacity;
	}
	memcpy(reply->data + reply->length, bytes, length);
	reply->length += length;
	return 0;
}

/**
 * Check whether a received chunk ends the reply to the request.
 *
 * @param chunk		received bytes
 * @param length	number of bytes
 * @param seq		sequence number of the request
 * @return			true at NLMSG_DONE or NLMSG_ERROR for the request
 */
static bool chunk_ends_reply(const uint8_t *chunk, size_t length, uint32_t seq)
{
	const struct nlmsghdr *header = (const struct nlmsghdr *)chunk;
	int remaining = (int)length;

	while (NLMSG_OK(header, remaining))
	{
		if (header->nlmsg_seq == seq &&
			(header->nlmsg_type == NLMSG_DONE ||
			 header->nlmsg_type == NLMSG_ERROR))
		{
			return true;
		}
		header = NLMSG_NEXT(header, remaining);
	}
	return false;
}

/**
 * Open a routing netlink socket with a receive timeout and extended ACKs.
 *
 * @return			the descriptor, -1 with errno set on failure
 */
static int open_socket(void)
{
	struct timeval timeout = { .tv_sec = RECEIVE_TIMEOUT_SECONDS };
	int on = 1;
	int fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
	{
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)))
	{
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	/* older kernels lack extended ACKs; the plain errno still arrives */
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof(on));
	return fd;
}

/**
 * Send the request and collect the reply.
 *
 * @param fd		routing netlink socket
 * @param request	whole request message
 * @param length	its length
 * @param reply	receives the reply
 * @param syscall	receives the name of the call that failed
 * @return			0 on success, an errno value on failure
 */
static int exchange(int fd, const uint8_t *request, size_t length,
					reply_t *reply, const char **syscall)
{
	const struct nlmsghdr *header = (const struct nlmsghdr *)request;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	uint8_t *chunk;
	ssize_t received;
	int err = 0;

	*syscall = "sendto";
	if (sendto(fd, request, length, 0, (struct sockaddr *)&kernel,
			   sizeof(kernel)) < 0)
	{
		return errno;
	}

	chunk = malloc(RECEIVE_CHUNK);
	if (!chunk)
	{
		*syscall = "malloc";
		return ENOMEM;
	}
	*syscall = "recv";
	for (;;)
	{
		received = recv(fd, chunk, RECEIVE_CHUNK, MSG_TRUNC);
		if (received < 0)
		{
			if (errno == EINTR)
			{
				continue;
			}
			err = errno == EAGAIN ? ETIMEDOUT : errno;
			break;
		}
		if (received > RECEIVE_CHUNK)
		{
			err = EMSGSIZE;
			break;
		}
		err = reply_append(reply, chunk, (size_t)received);
		if (err || chunk_ends_reply(chunk, (size_t)received,
									 header->nlmsg_seq))
		{
			break;
		}
	}
	free(chunk);
	return err;
}

/*
 * Described in header
 */
napi_value rtnetlink_request(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], result = NULL;
	napi_typedarray_type type;
	napi_value arraybuffer;
	reply_t reply = { 0 };
	const char *syscall = "socket";
	bool is_typedarray = false;
	size_t length, offset;
	void *request, *copy;
	int fd, err;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok ||
		argc < 1 ||
		napi_is_typedarray(env, argv[0], &is_typedarray) != napi_ok ||
		!is_typedarray ||
		napi_get_typedarray_info(env, argv[0], &type, &length, &request,
								 &arraybuffer, &offset) != napi_ok ||
		type != napi_uint8_array)
	{
		lupina_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
								"The netlink request must be a Uint8Array");
		return NULL;
	}
	if (length < NLMSG_HDRLEN ||
		((const struct nlmsghdr *)request)->nlmsg_len != length)
	{
		lupina_throw_type_error(env, "ERR_INVALID_ARG_VALUE",
			"The netlink request must be one whole message whose length "
			"field equals its size");
		return NULL;
	}
	/* without an ACK, nothing ends the reply to a request that is not a dump */
	if ((((const struct nlmsghdr *)request)->nlmsg_flags &
		 (NLM_F_ACK | NLM_F_DUMP)) == 0)
	{
		lupina_throw_type_error(env, "ERR_INVALID_ARG_VALUE",
			"The netlink request must set NLM_F_ACK or NLM_F_DUMP");
		return NULL;
	}

	fd = open_socket();
	if (fd < 0)
	{
		lupina_throw_errno(env, errno, syscall,
			"Changing routes and addresses needs root or CAP_NET_ADMIN.",
			"Opening a routing netlink socket failed");
		return NULL;
	}
	err = exchange(fd, request, length, &reply, &syscall);
	close(fd);
	if (err)
	{
		free(reply.data);
		lupina_throw_errno(env, err, syscall, NULL,
						   "A routing netlink request failed");
		return NULL;
	}

	if (napi_create_buffer(env, reply.length, &copy, &result) == napi_ok &&
		reply.length > 0)
	{
		memcpy(copy, reply.data, reply.length);
	}
	free(reply.data);
	if (!result)
	{
		lupina_throw_napi(env, napi_generic_failure, "napi_create_buffer");
	}
	return result;
}

/*
 * Described in header
 */
napi_value rtnetlink_interface_index(napi_env env, napi_callback_info info)
{
	size_t argc = 1, length = 0;
	napi_value argv[1], result;
	char name[IF_NAMESIZE];

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok ||
		argc < 1 ||
		napi_get_value_string_utf8(env, argv[0], NULL, 0, &length) != napi_ok)
	{
		lupina_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
								"The interface name must be a string");
		return NULL;
	}
	if (length == 0 || length >= IF_NAMESIZE)
	{
		napi_create_uint32(env, 0, &result);
		return result;
	}
	napi_get_value_string_utf8(env, argv[0], name, sizeof(name), NULL);
	napi_create_uint32(env, if_nametoindex(name), &result);
	return result;
}

/*
 * Described in header
 */
napi_value rtnetlink_interface_name(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], result;
	char name[IF_NAMESIZE];
	uint32_t index;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok ||
		argc < 1 ||
		napi_get_value_uint32(env, argv[0], &index) != napi_ok)
	{
		lupina_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
								"The interface index must be a number");
		return NULL;
	}
	if (index == 0 || !if_indextoname(index, name))
	{
		napi_get_null(env, &result);
		return result;
	}
	napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &result);
	return result;
}
