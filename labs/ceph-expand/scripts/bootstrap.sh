#!/bin/sh
exec ceph-lab mon
