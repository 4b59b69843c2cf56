"""Evaluation of generated videos: one output against its driving video, or a generated dataset against its ground truth."""
