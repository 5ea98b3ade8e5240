#!/bin/sh
rbd create rbd/vol01 --size 1G
