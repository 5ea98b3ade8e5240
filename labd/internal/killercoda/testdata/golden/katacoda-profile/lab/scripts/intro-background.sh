#!/bin/bash
touch /root/.katacoda-ready
