#!/bin/bash
# Killercoda's /etc/killercoda/host: the address of a port of host 1, with
# PORT in place of the port number, for scripts that read it.
mkdir -p /etc/killercoda
echo 'http://172.30.1.2:PORT' >/etc/killercoda/host
