#!/bin/sh
getent hosts node1 node2 > /root/peers.txt
