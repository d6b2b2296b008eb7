# Builds lupina_native.node with node-gyp: `npm rebuild` or
# `node-gyp rebuild --directory native`. Pure Node-API in C, no C++.
{
  'targets': [
    {
      'target_name': 'lupina_native',
      'defines': [
        'NAPI_VERSION=8',
        '_GNU_SOURCE',
      ],
      'cflags_c': [
        '-std=gnu11',
        '-Wall',
        '-Wextra',
        '-Wno-unused-parameter',
      ],
      'conditions': [
        ['OS=="linux"', {
          'sources': [
            'src/address.c',
            'src/chunk_pool.c',
            'src/errors.c',
            'src/lupina_native.c',
            'src/packet_handle.c',
            'src/packet_receive.c',
            'src/packet_send.c',
            'src/raw_socket.c',
            'src/rtnetlink.c',
            'src/tun.c',
            'src/tun_offload.c',
            'src/tun_offload_js.c',
          ],
        }, {
          'sources': [
            'src/unsupported.c',
          ],
        }],
      ],
    },
  ],
}
