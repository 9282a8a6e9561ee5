from refweb import vhost

resource = vhost.VHostMonsterResource()
