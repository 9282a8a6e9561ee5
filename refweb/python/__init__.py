"""Small utilities the guide imports from ``twisted.python``: ThreadPool,
println, a logger and Failure.

Start reading at ``threadpool``.
"""
