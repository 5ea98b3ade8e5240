#!/bin/sh
rbd bench --io-type write --io-size 4M --io-total 64M --io-pattern seq rbd/vol01 >/dev/null
